import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { InvalidInputError, RefusedError } from "../core/errors.js";
import type { OperationContext } from "./context.js";

// Where a policy named by path may come from. Over HTTP only files under `--policies DIR`; over
// stdio and the CLI the user's own paths. Either way: regular files only (a FIFO or a device is
// refused before anything is read), at most MAX_POLICY_BYTES, and errors that never say more about
// a path than that it is not a policy file it may read.

export const MAX_POLICY_BYTES = 256 * 1024;

/** Reads policy files named by tool arguments, asynchronously (a server's event loop never waits on one). */
export interface PolicyFiles {
  read(path: string): Promise<string>;
}

// O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW (directory mode): the path
// checked against the directory is the one read.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;
const OPEN_RESOLVED = OPEN_FLAGS | constants.O_NOFOLLOW;

function refused(path: string, why: string): InvalidInputError {
  return new InvalidInputError("policy", `cannot read policy file ${JSON.stringify(path)}: ${why}`);
}

function tooBig(path: string): InvalidInputError {
  return refused(path, `a policy file is at most ${MAX_POLICY_BYTES} bytes`);
}

async function readRegular(
  path: string,
  shown: string,
  denied: () => InvalidInputError,
  flags = OPEN_FLAGS,
): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, flags);
  } catch {
    throw denied();
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw denied();
    if (st.size > MAX_POLICY_BYTES) throw tooBig(shown);
    // Read one byte past the cap: a file that grew since stat is still refused, never read whole.
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got > MAX_POLICY_BYTES) throw tooBig(shown);
    }
    return buf.subarray(0, got).toString("utf8");
  } finally {
    await fh.close();
  }
}

/**
 * Policy files for HTTP callers: paths relative to `dir` (or absolute inside it), resolved through
 * symlinks and refused if the real file is outside it. Without a directory every path is refused.
 * Every refusal reads the same, so a caller learns nothing about what exists outside.
 */
export function policyDirectory(dir: string | undefined): PolicyFiles {
  return {
    async read(path) {
      const denied = () =>
        refused(
          path,
          dir
            ? "over HTTP a policy path must name a regular policy file under the server's --policies directory; or pass the policy inline as an object"
            : "this server reads no policy files (it was started without --policies DIR); pass the policy inline as an object",
        );
      if (!dir) throw denied();
      let root: string;
      let real: string;
      try {
        root = await realpath(dir);
        real = await realpath(resolve(root, path));
      } catch {
        throw denied();
      }
      const rel = relative(root, real);
      if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) throw denied();
      return readRegular(real, path, denied, OPEN_RESOLVED);
    },
  };
}

/** The user's own paths (stdio MCP in their repository), relative to the working directory. */
export function userPolicyFiles(cwd: string = process.cwd()): PolicyFiles {
  return {
    read(path) {
      const full = resolve(cwd, path);
      return readRegular(full, path, () =>
        refused(
          path,
          "no regular file there that this process may read; pass a policy file's path or an inline policy object",
        ),
      );
    },
  };
}

/** The same rules, synchronously, for one-shot CLI commands (nothing else waits on them). */
export function readUserPolicyFileSync(path: string, cwd: string = process.cwd()): string {
  const denied = () =>
    refused(path, "no regular file there that this process may read; pass a policy file's path");
  let fd: number;
  try {
    fd = openSync(resolve(cwd, path), OPEN_FLAGS);
  } catch {
    throw denied();
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw denied();
    if (st.size > MAX_POLICY_BYTES) throw tooBig(path);
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let got = 0;
    for (;;) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
      if (got > MAX_POLICY_BYTES) throw tooBig(path);
    }
    return buf.subarray(0, got).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * A policy path named by a caller is read here, asynchronously and under the caller's file rules, so the
 * operation's synchronous read only ever sees the text already fetched (or the refusal).
 */
export async function withPolicyFile(
  ctx: OperationContext,
  files: PolicyFiles,
  path: unknown,
): Promise<OperationContext> {
  if (typeof path !== "string") return { ...ctx, readPolicyFile: () => refuseRead() };
  let text: string | undefined;
  let failure: unknown;
  try {
    text = await files.read(path);
  } catch (error) {
    failure = error;
  }
  return {
    ...ctx,
    readPolicyFile: (p) => {
      if (p !== path || text === undefined) throw failure ?? refuseRead();
      return text;
    },
  };
}

function refuseRead(): never {
  throw new RefusedError("policy_files", "only the policy named by the `policy` argument may be read");
}
