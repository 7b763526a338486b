/**
 * What the CLI bundle uses in place of iconv-lite (scripts/bundle.mjs aliases it). Its only user
 * is @inquirer/external-editor (the `editor` prompt), which decodes the edited file with
 * `encodingExists` and `decode`; iconv-lite's tables are half the bundle's size and start-up
 * reads the whole file, so the bundle decodes what Node's Buffer knows (UTF-8, UTF-16LE, Latin-1)
 * and treats anything else as UTF-8.
 */
const known = (encoding: string): BufferEncoding | undefined => {
  const e = encoding.toLowerCase().replace(/[^a-z0-9]/g, "");
  if (e === "utf8") return "utf8";
  if (e === "utf16le" || e === "ucs2") return "utf16le";
  if (e === "latin1" || e === "iso88591" || e === "binary") return "latin1";
  if (e === "ascii" || e === "usascii") return "ascii";
  return undefined;
};

export function encodingExists(encoding: string): boolean {
  return known(encoding) !== undefined;
}

export function decode(buffer: Buffer, encoding: string): string {
  return buffer.toString(known(encoding) ?? "utf8");
}

export function encode(text: string, encoding: string): Buffer {
  return Buffer.from(text, known(encoding) ?? "utf8");
}

export default { encodingExists, decode, encode };
