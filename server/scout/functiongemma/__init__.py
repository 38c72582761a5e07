"""FunctionGemma's prompt and call format: the one module that renders and parses it.

See :mod:`scout.functiongemma.format` for the format and why serving and training share it.
"""

from scout.functiongemma.format import (
    ANSWER_TEXT_CHARS,
    FORMAT_VERSION,
    STOP_SEQUENCES,
    FunctionCall,
    FunctionGemmaParseError,
    answer_token_budget,
    developer_text,
    neutralise,
    parse_calls,
    parse_task_output,
    raw_stop_sequences,
    render_call,
    render_declaration,
    render_example,
    render_prompt,
    to_messages,
    unneutralise,
    user_text,
)

__all__ = [
    "ANSWER_TEXT_CHARS",
    "FORMAT_VERSION",
    "STOP_SEQUENCES",
    "FunctionCall",
    "FunctionGemmaParseError",
    "answer_token_budget",
    "developer_text",
    "neutralise",
    "parse_calls",
    "parse_task_output",
    "raw_stop_sequences",
    "render_call",
    "render_declaration",
    "render_example",
    "render_prompt",
    "to_messages",
    "unneutralise",
    "user_text",
]
