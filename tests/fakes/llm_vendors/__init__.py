"""Fake LLM vendors at the wire: one local server speaking OpenAI, Anthropic and Gemini.

async with FakeLLMVendors() as fake:
    fake.enqueue(Reply("Hello **world**", chunks=3), ToolCall("current_time", {"tz": "UTC"}))
    client = AsyncOpenAI(base_url=fake.openai_base_url, api_key=fake.api_key)
"""

from .script import (
    AnyToolCall,
    CutStream,
    Fail,
    Hang,
    MalformedToolCall,
    Reply,
    Responder,
    Role,
    Step,
    ToolCall,
    Vendor,
    VendorRequest,
    echo,
    estimate_tokens,
)
from .server import (
    ANTHROPIC_MODELS,
    FAKE_API_KEY,
    GEMINI_MODELS,
    OPENAI_MODELS,
    FakeLLMVendors,
)

__all__ = [
    "ANTHROPIC_MODELS",
    "FAKE_API_KEY",
    "GEMINI_MODELS",
    "OPENAI_MODELS",
    "AnyToolCall",
    "CutStream",
    "Fail",
    "FakeLLMVendors",
    "Hang",
    "MalformedToolCall",
    "Reply",
    "Responder",
    "Role",
    "Step",
    "ToolCall",
    "Vendor",
    "VendorRequest",
    "echo",
    "estimate_tokens",
]
