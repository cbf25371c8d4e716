"""A flow spec as JSON (versions, drafts, the editor's page) and back, with the shape checked.

Written from the NodeSpec fields themselves, so a field added to NodeSpec is kept by versions and drafts
without changes here. Nothing here touches Flask or the database.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from ivr.spec import FlowSpec, NodeSpec

NODE_FIELDS = {f.name: f for f in dataclasses.fields(NodeSpec)}
# The params the engine and the checks read, and what each must hold (None is "not set").
INT_PARAMS = ("box_number", "timeout", "max_seconds", "number_entry_guidance", "invalid_number_guidance")
TEXT_PARAMS = ("number",)
BOOL_PARAMS = ("ask_number",)
MAX_NODES = 200
MAX_TEXT = 200


class ShapeError(ValueError):
    """The JSON is not a flow (wrong types, too large): a Japanese message for the editor."""


def node_to_dict(node: NodeSpec) -> dict:
    out = {}
    for name in NODE_FIELDS:
        value = getattr(node, name)
        out[name] = dict(value) if name in ("exits", "params") else value
    return out


def spec_to_dict(spec: FlowSpec) -> dict:
    return {"entry": spec.entry, "nodes": [node_to_dict(node) for node in spec.nodes.values()]}


def spec_to_json(spec: FlowSpec) -> str:
    return json.dumps(spec_to_dict(spec), ensure_ascii=False, sort_keys=True)


def spec_from_json(text: str) -> FlowSpec:
    return spec_from_dict(json.loads(text or "{}"))


def spec_from_dict(data: Any) -> FlowSpec:
    """The flow a JSON object describes; ShapeError when its shape is not a flow's (never a half-read flow)."""
    if not isinstance(data, dict):
        raise ShapeError("フローの形式が正しくありません。")
    entry = data.get("entry") or ""
    nodes = data.get("nodes")
    if not isinstance(entry, str) or not isinstance(nodes, list):
        raise ShapeError("フローの形式が正しくありません（開始ノード・ノードの一覧）。")
    if len(nodes) > MAX_NODES:
        raise ShapeError(f"ノードは {MAX_NODES} 個までです。")
    specs: dict[str, NodeSpec] = {}
    for item in nodes:
        node = node_from_dict(item)
        if node.key in specs:
            raise ShapeError(f"ノード ID「{node.key}」が重複しています。")
        specs[node.key] = node
    return FlowSpec(entry=entry[:MAX_TEXT], nodes=specs)


def node_from_dict(item: Any) -> NodeSpec:
    if not isinstance(item, dict):
        raise ShapeError("ノードの形式が正しくありません。")
    values: dict[str, Any] = {}
    for name, spec_field in NODE_FIELDS.items():
        if name not in item or item[name] is None:
            continue
        values[name] = _checked(name, spec_field, item[name])
    if not values.get("key") or not values.get("kind"):
        raise ShapeError("ID と種類のないノードがあります。")
    return NodeSpec(**values)


def _checked(name: str, spec_field: dataclasses.Field, value: Any) -> Any:
    kind = spec_field.type if isinstance(spec_field.type, str) else getattr(spec_field.type, "__name__", "")
    if name in ("exits", "params"):
        if not isinstance(value, dict) or len(json.dumps(value, ensure_ascii=False)) > 20_000:
            raise ShapeError(f"ノードの {name} の形式が正しくありません。")
        if name == "exits" and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise ShapeError("分岐の形式が正しくありません。")
        if name == "params":
            _check_params(value)
        return dict(value)
    if kind.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int) or not -10**9 < value < 10**9:
            raise ShapeError(f"ノードの {name} は整数にしてください。")
        return value
    if kind.startswith("str"):
        if not isinstance(value, str):
            raise ShapeError(f"ノードの {name} は文字列にしてください。")
        return value[:MAX_TEXT]
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -10**9 < value < 10**9


def _check_params(params: dict) -> None:
    """Kind settings hold what the engine reads: a setting of another type would fail a call, so it is refused."""
    for name in INT_PARAMS:
        if params.get(name) is not None and not _is_int(params[name]):
            raise ShapeError(f"設定 {name} は整数にしてください。")
    for name in TEXT_PARAMS:
        if params.get(name) is not None and not (isinstance(params[name], str) and len(params[name]) <= 40):
            raise ShapeError("転送先の電話番号の形式が正しくありません。")
    for name in BOOL_PARAMS:
        if params.get(name) is not None and not isinstance(params[name], bool):
            raise ShapeError(f"設定 {name} の形式が正しくありません。")
    hours = params.get("hours")
    if hours is None:
        return
    if not (isinstance(hours, dict) and isinstance(hours.get("weekdays", []), list)
            and all(_is_int(d) for d in hours.get("weekdays", []))
            and all(isinstance(hours.get(k, ""), str) for k in ("open", "close"))
            and isinstance(hours.get("closed_on_holidays", True), bool)):
        raise ShapeError("営業時間の形式が正しくありません。")


def node_digest(node: NodeSpec) -> str:
    """A node's content as one comparable string (for the diff between versions)."""
    data = node_to_dict(node)
    data.pop("key")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
