/** Why a tar stream was refused: the one error the tar reader and its byte reader throw. */
export type TarFormatReason = "truncated" | "corrupt-tar" | "meta-too-large";

export class TarFormatError extends Error {
  constructor(
    readonly reason: TarFormatReason,
    message: string,
    readonly entry?: string,
  ) {
    super(message);
    this.name = "TarFormatError";
  }
}
