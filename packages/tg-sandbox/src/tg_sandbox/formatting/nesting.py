"""TDLib's nesting rules: which entities may overlap, and how bold & co. are cut to fit."""

from __future__ import annotations

from tg_sandbox.formatting.entity import (
    BLOCKQUOTES,
    CONTINUOUS,
    PRE_LIKE,
    SPLITTABLE,
    Entity,
    sort_entities,
)

_INFINITY = 1 << 62


def _type_id(entity: Entity) -> str:
    """TDLib tells Pre from PreCode; everything else is identified by its kind."""
    return "pre_code" if entity.kind == "pre" and entity.argument else entity.kind


def are_valid(entities: list[Entity]) -> bool:
    """TDLib's are_entities_valid: sorted, properly nested, nothing left to merge or split."""
    end_of: dict[str, int] = {}
    stack: list[Entity] = []
    open_types: set[str] = set()
    for entity in entities:
        while stack and entity.offset >= stack[-1].end:
            open_types.discard(_type_id(stack.pop()))
        if stack:
            parent = stack[-1]
            if entity.end > parent.end or _type_id(entity) in open_types:
                return False
            if parent.kind in PRE_LIKE:
                return False
            if entity.kind in PRE_LIKE and any(kind not in BLOCKQUOTES for kind in open_types):
                return False
            nested_in_continuous = any(kind in CONTINUOUS for kind in open_types)
            if (entity.kind in CONTINUOUS or entity.kind in BLOCKQUOTES) and nested_in_continuous:
                return False
            if entity.kind in BLOCKQUOTES and open_types & BLOCKQUOTES:
                return False
            if any(kind in SPLITTABLE for kind in open_types):
                return False
        if entity.kind in SPLITTABLE:
            if end_of.get(entity.kind, -1) >= entity.offset:
                return False
            end_of[entity.kind] = entity.end
        stack.append(entity)
        open_types.add(_type_id(entity))
    return True


def remove_intersecting(entities: list[Entity]) -> list[Entity]:
    """Keep, in sorted order, only entities that start after every kept one ended."""
    kept: list[Entity] = []
    last_end = 0
    for entity in entities:
        if entity.offset >= last_end:
            last_end = entity.end
            kept.append(entity)
    return kept


def remove_crossing_blockquotes(entities: list[Entity], quotes: list[Entity]) -> list[Entity]:
    """Drop entities that cross a blockquote edge; being wholly inside one is fine."""
    kept: list[Entity] = []
    index = 0
    for entity in entities:
        while index < len(quotes) and (
            quotes[index].kind not in BLOCKQUOTES or quotes[index].end <= entity.offset
        ):
            index += 1
        if index < len(quotes):
            quote = quotes[index]
            if quote.end < entity.end or entity.offset < quote.offset < entity.end:
                continue
        kept.append(entity)
    return kept


def split_around(splittable: list[Entity], others: list[Entity]) -> list[Entity]:
    """TDLib's split_entities: merge bold & co., cut them at other edges, drop them in code."""
    begin = dict.fromkeys(SPLITTABLE, 0)
    end = dict.fromkeys(SPLITTABLE, 0)
    result: list[Entity] = []
    position = 0

    def flush(offset: int) -> None:
        for kind in SPLITTABLE:
            if end[kind] != 0 and begin[kind] < offset:
                if end[kind] <= offset:
                    result.append(Entity(kind, begin[kind], end[kind] - begin[kind]))
                    begin[kind] = end[kind] = 0
                else:
                    result.append(Entity(kind, begin[kind], offset - begin[kind]))
                    begin[kind] = offset

    def add_until(end_offset: int) -> None:
        nonlocal position
        while position < len(splittable) and splittable[position].offset < end_offset:
            entity = splittable[position]
            if end[entity.kind] != 0 and entity.offset <= end[entity.kind]:
                end[entity.kind] = max(end[entity.kind], entity.end)
            else:
                flush(entity.offset)
                begin[entity.kind], end[entity.kind] = entity.offset, entity.end
            position += 1
        flush(end_offset)

    stack: list[Entity] = []

    def advance(offset: int) -> None:
        while stack and offset >= stack[-1].end:
            kept = len(result)
            add_until(stack[-1].end)
            if stack[-1].kind in PRE_LIKE:
                del result[kept:]
            stack.pop()
        add_until(offset)

    for other in others:
        advance(other.offset)
        stack.append(other)
    advance(_INFINITY)
    sort_entities(result)
    return result


def _resplit(splittable: list[Entity], others: list[Entity]) -> list[Entity]:
    if not splittable:
        return others
    pieces = split_around(splittable, others)
    if not others:
        return pieces
    combined = others + pieces
    sort_entities(combined)
    return combined


def _partition(entities: list[Entity]) -> tuple[list[Entity], list[Entity], list[Entity]]:
    """(continuous and pre-like, blockquotes, splittable), each keeping the sorted order."""
    splittable = [entity for entity in entities if entity.kind in SPLITTABLE]
    quotes = [entity for entity in entities if entity.kind in BLOCKQUOTES]
    rest = [e for e in entities if e.kind not in SPLITTABLE and e.kind not in BLOCKQUOTES]
    return rest, quotes, splittable


def fix_entities(entities: list[Entity]) -> list[Entity]:
    """TDLib's fix_entities: sort, then make the set valid by dropping and splitting."""
    sort_entities(entities)
    if are_valid(entities):
        return entities
    continuous, quotes, splittable = _partition(entities)
    continuous = remove_intersecting(continuous)
    if quotes:
        quotes = remove_intersecting(quotes)
        continuous = remove_crossing_blockquotes(continuous, quotes) + quotes
        sort_entities(continuous)
    return _resplit(splittable, continuous)


def merge_found(entities: list[Entity], found: list[Entity]) -> list[Entity]:
    """TDLib's merge_new_entities: add auto-detected entities where nothing continuous is."""
    if not found:
        return entities
    continuous, quotes, splittable = _partition(entities)
    found = remove_crossing_blockquotes(found, quotes)
    merged: list[Entity] = []
    index = 0
    for old in continuous:
        while index < len(found) and found[index].end <= old.offset:
            merged.append(found[index])
            index += 1
        merged.append(old)
        while index < len(found) and found[index].offset < old.end:
            index += 1
    merged.extend(found[index:])
    if quotes:
        merged += quotes
        sort_entities(merged)
    return _resplit(splittable, merged)
