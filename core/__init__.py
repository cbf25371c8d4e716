"""Shared kernel: configuration, database, clock, business calendar, scheduler and Twilio helpers.

Nothing in here imports a feature package (ivr, sms, guidance, reports) or web.
"""
