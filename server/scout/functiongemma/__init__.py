"""FunctionGemma's prompt and call format: the one module that renders and parses it.

See :mod:`scout.functiongemma.format` for the format and why serving and training share it.
"""

from scout.functiongemma.format import (
    FORMAT_VERSION,
    STOP_SEQUENCES,
    FunctionCall,
    FunctionGemmaParseError,
    developer_text,
    neutralise,
    parse_calls,
    parse_task_output,
    render_call,
    render_declaration,
    render_example,
    render_prompt,
    to_messages,
    unneutralise,
    user_text,
)

__all__ = [
    "FORMAT_VERSION",
    "STOP_SEQUENCES",
    "FunctionCall",
    "FunctionGemmaParseError",
    "developer_text",
    "neutralise",
    "parse_calls",
    "parse_task_output",
    "render_call",
    "render_declaration",
    "render_example",
    "render_prompt",
    "to_messages",
    "unneutralise",
    "user_text",
]
