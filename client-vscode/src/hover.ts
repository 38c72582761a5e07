// The HLS bridge's text part: what the Haskell extension's hover shows, reduced to the type text
// the server wants (`scout/hover` answers `{"contents": str}` or null). Pure: no `vscode` import.

/** One piece of hover content: markdown text, or a code block as the old MarkedString form. */
export type HoverPiece = string | { language: string; value: string };

const FENCE = /^(```+|~~~+)\s*([\w+#.-]*)[^\n]*\n([\s\S]*?)\n?\1\s*$/gm;

/** Code blocks in markdown, in order: [language, code]. */
export function codeBlocks(markdown: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of markdown.matchAll(FENCE)) out.push([m[2] ?? "", m[3] ?? ""]);
  return out;
}

/** Markdown without its formatting, for hovers that carry no code block. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/<[^>]+>/g, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/^\s*(\*\s*){3,}\s*$/gm, "")
    .replace(/^\s*([-_]\s*){3,}\s*$/gm, "")
    .replace(/^#+\s*/gm, "")
    .replace(/(\*\*|__|\*|`)/g, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const TYPE_LANGUAGES = new Set(["", "haskell", "hs", "literate haskell", "lhaskell"]);

/**
 * The type text of a hover: the Haskell code blocks of every piece, in order, without repeats
 * (HLS puts the signature in a ```haskell block, then "Defined at ..." and the docs as prose).
 * A hover with no code block gives its prose. Nothing at all gives null.
 */
export function reduceHover(pieces: readonly HoverPiece[]): string | null {
  const code: string[] = [];
  const prose: string[] = [];
  for (const piece of pieces) {
    if (typeof piece === "string") {
      const blocks = codeBlocks(piece);
      const haskell = blocks.filter(([lang]) => TYPE_LANGUAGES.has(lang.toLowerCase()));
      for (const [, text] of haskell) code.push(text.trim());
      if (blocks.length === 0) prose.push(plainText(piece));
    } else if (TYPE_LANGUAGES.has(piece.language.toLowerCase())) {
      code.push(piece.value.trim());
    } else {
      prose.push(piece.value.trim());
    }
  }
  const unique = (xs: string[]) => [...new Set(xs.filter((x) => x.length > 0))];
  const chosen = unique(code).length ? unique(code) : unique(prose);
  return chosen.length ? chosen.join("\n") : null;
}
