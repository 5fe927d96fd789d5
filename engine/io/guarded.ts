import * as fs from 'node:fs';
import { InspectorError } from '../errors';

/**
 * The one way the engine and the host open a file: open (non-blocking, so a FIFO cannot stall the
 * open), `fstat` the descriptor, refuse anything but a regular file (a symlink to /dev/zero, a FIFO,
 * a socket, a folder), cap the size by the file's kind, and read through that same descriptor (so
 * the file checked is the file read). A file that grows while it is read is refused too.
 */

/** The size limits of each kind of file (bytes). Documented in docs/reliability.md. */
export const FILE_LIMITS = {
  /** A *.transformer.json or config.json. */
  config: 16 * 1024 * 1024,
  /** model.safetensors.index.json (a weight map of every tensor name). */
  index: 64 * 1024 * 1024,
  /** tokenizer.json (large vocabularies and merges: the biggest known are ~35 MB). */
  tokenizer: 128 * 1024 * 1024,
  /** tokenizer_config.json (special tokens, chat templates). */
  tokenizerConfig: 16 * 1024 * 1024,
  /** A text file of calibration or evaluation text (quantize --calib-file / --eval-file). */
  text: 64 * 1024 * 1024,
  /** A .gguf file, read whole (the small llama-family files the inspector runs). */
  gguf: 2 * 1024 * 1024 * 1024 - 1,
  /** A safetensors file: its header is capped separately; the data is read in byte ranges. */
  weights: Number.MAX_SAFE_INTEGER,
} as const;
export type FileKind = keyof typeof FILE_LIMITS;

const WHAT: Record<FileKind, string> = {
  config: 'config',
  index: 'shard index',
  tokenizer: 'tokenizer',
  tokenizerConfig: 'tokenizer config',
  text: 'text file',
  gguf: 'GGUF file',
  weights: 'weights file',
};

/** An open, checked regular file. Close it with `close()`. */
export interface GuardedFile {
  readonly fd: number;
  readonly size: number;
  readonly file: string;
  /** Read exactly `length` bytes at `position` (throws a named error if the file ends first). */
  readAt(buf: Buffer, position: number, what?: string): void;
  close(): void;
}

function describeType(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device (like /dev/zero)';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Open `file` for reading after the checks above. */
export function openGuarded(file: string, kind: FileKind): GuardedFile {
  const what = WHAT[kind];
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new InspectorError(`cannot open ${what}: ${(e as Error).message}`, { file });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new InspectorError(`cannot read ${what}: it is ${describeType(st)}, not a regular file`, { file });
    const limit = FILE_LIMITS[kind];
    if (st.size > limit) {
      throw new InspectorError(`${what} is ${st.size.toLocaleString('en-US')} bytes: too large (at most ${limit.toLocaleString('en-US')})`, { file });
    }
    const size = st.size;
    return {
      fd,
      size,
      file,
      readAt(buf: Buffer, position: number, part = what) {
        let done = 0;
        while (done < buf.length) {
          const got = fs.readSync(fd, buf, done, buf.length - done, position + done);
          if (got === 0) throw new InspectorError(`${part}: file ended after ${done} of ${buf.length} bytes`, { file });
          done += got;
        }
      },
      close() {
        fs.closeSync(fd);
      },
    };
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof InspectorError) throw e;
    throw new InspectorError(`cannot read ${what}: ${(e as Error).message}`, { file });
  }
}

/** The whole file's bytes (checked as above; at most its kind's limit). */
export function readGuarded(file: string, kind: FileKind): Buffer {
  const f = openGuarded(file, kind);
  try {
    const buf = Buffer.alloc(f.size);
    f.readAt(buf, 0);
    // One more byte would mean the file grew after fstat: refuse rather than read a moving target.
    if (fs.readSync(f.fd, Buffer.alloc(1), 0, 1, f.size) !== 0) {
      throw new InspectorError(`${WHAT[kind]} changed while it was read`, { file });
    }
    return buf;
  } catch (e) {
    if (e instanceof InspectorError) throw e;
    throw new InspectorError(`cannot read ${WHAT[kind]}: ${(e as Error).message}`, { file });
  } finally {
    f.close();
  }
}

/** The whole file as UTF-8 text (checked as above). */
export function readTextGuarded(file: string, kind: FileKind): string {
  return readGuarded(file, kind).toString('utf8');
}

/** True when `file` is a regular file (following symlinks); false when missing or anything else. */
export function isRegularFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** True when something exists at `file` (a regular file or not: the reader will name what it is). */
export function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}
