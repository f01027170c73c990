"""What an MCP tool answered, as the text the model reads."""

from __future__ import annotations

import json

from mcp.types import (
    AudioContent,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)


def result_text(result: CallToolResult) -> str:
    """Text parts as they are, other parts as short placeholders; JSON when there is no text."""
    text = "\n".join(part for part in map(_part, result.content) if part)
    has_text = any(isinstance(block, TextContent) for block in result.content)
    if result.structured_content is not None and not has_text:
        structured = json.dumps(result.structured_content, ensure_ascii=False, default=str)
        text = f"{text}\n{structured}" if text else structured
    return text


def _part(block: ContentBlock) -> str:
    if isinstance(block, TextContent):
        return block.text
    if isinstance(block, ImageContent):
        return f"[image, {block.mime_type}]"
    if isinstance(block, AudioContent):
        return f"[audio, {block.mime_type}]"
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        if isinstance(resource, TextResourceContents):
            return resource.text
        return f"[file {resource.uri}, {resource.mime_type or 'binary'}]"
    if isinstance(block, ResourceLink):
        return f"[link: {block.name} {block.uri}]"
    return f"[{getattr(block, 'type', 'unknown')} content]"
