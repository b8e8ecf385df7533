import { mkdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listenUnixSocket, mkfifo } from "../../../fixtures/special-files.js";
import { packPackage } from "../src/archive/pack.js";
import { loadPackageDir } from "../src/archive/package-validate.js";
import { readFilesAhead } from "../src/archive/source-read.js";
import { ExitCode, ValidationError } from "../src/errors.js";
import { readRegularFile, readRegularText } from "../src/host/regular-file.js";
import { ADDON_TREE, tempDir, writeTree } from "./helpers/source-tree.js";

let work: string;
beforeEach(async () => {
  work = await tempDir();
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).exitCode).toBe(ExitCode.validation);
  return err as ValidationError;
}

describe("readRegularFile", () => {
  it("reads a regular file, also through a symbolic link", async () => {
    await writeFile(join(work, "a.txt"), "hello");
    await symlink("a.txt", join(work, "link"));
    expect(await readRegularText(join(work, "a.txt"))).toBe("hello");
    expect((await readRegularFile(join(work, "link"))).toString()).toBe("hello");
  });

  it("refuses a FIFO without blocking, naming it", async () => {
    mkfifo(join(work, "fifo"));
    const err = await refusal(readRegularText(join(work, "fifo"), "env file"));
    expect(err.message).toBe(`env file ${join(work, "fifo")} is a FIFO (named pipe), not a regular file`);
    expect(err.where).toBe(join(work, "fifo"));
    expect(err.problems).toEqual([
      { file: join(work, "fifo"), message: "expected a regular file, found a FIFO (named pipe)", severity: "error" },
    ]);
  });

  it("refuses a socket, a character device (through a link) and a directory", async () => {
    const server = await listenUnixSocket(join(work, "sock"));
    try {
      expect((await refusal(readRegularText(join(work, "sock")))).message).toContain("is a socket, not a regular file");
    } finally {
      server.close();
    }
    await symlink("/dev/zero", join(work, "zero"));
    expect((await refusal(readRegularText(join(work, "zero")))).message).toContain("is a character device, not a regular file");
    expect((await refusal(readRegularText(work))).message).toContain("is a directory, not a regular file");
  });

  it("leaves other fs errors to the caller (ENOENT stays ENOENT)", async () => {
    await expect(readRegularText(join(work, "missing"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("package readers", () => {
  it("packPackage: a FIFO .pk3signore is a ValidationError naming it, nothing written", async () => {
    const src = await writeTree(join(work, "src"), ADDON_TREE);
    mkfifo(join(src, ".pk3signore"));
    const err = await refusal(packPackage(src, join(work, "out")));
    expect(err.message).toBe(`${join(src, ".pk3signore")} is a FIFO (named pipe), not a regular file`);
    await expect(readRegularText(join(work, "out"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("loadPackageDir: a FIFO Chart.yaml is one of the problems, named", async () => {
    const src = await writeTree(join(work, "src"), ADDON_TREE);
    await unlink(join(src, "charts/demo/Chart.yaml"));
    mkfifo(join(src, "charts/demo/Chart.yaml"));
    const err = await refusal(loadPackageDir(src));
    expect(err.problems).toContainEqual({
      file: `${src}/charts/demo/Chart.yaml`,
      message: "expected a regular file, found a FIFO (named pipe)",
      severity: "error",
    });
  });

  it("the packer's read-ahead: a file swapped for a FIFO after listing is refused, not waited on", async () => {
    await mkdir(join(work, "d"));
    mkfifo(join(work, "d", "swapped"));
    const read = async () => {
      for await (const _ of readFilesAhead([{ path: "swapped", abs: join(work, "d", "swapped"), size: 3 }])) {
        // nothing: the open must fail
      }
    };
    expect((await refusal(read())).message).toBe(`${join(work, "d", "swapped")} is a FIFO (named pipe), not a regular file`);
  });
});
