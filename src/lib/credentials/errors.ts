/**
 * Errors of the credential store. Each has a stable `code` (mapped to an exit code in
 * src/lib/cli/exit-codes.ts) and `suggestions`. Messages are one line: what went wrong
 * (naming the path), then what to do. They never contain a key (redactKeys as a last guard).
 */
import { GigaReelsError } from "../sdk/errors.js";
import { redactKeys } from "./key-format.js";

export class CredentialsError extends GigaReelsError {
  readonly path?: string;
  constructor(code: string, message: string, suggestions: string[] = [], path?: string) {
    super(message, { suggestions: suggestions.map(redactKeys) });
    this.code = code;
    if (path !== undefined) this.path = path;
  }
}

/** credentials.json is not valid JSON or not the shape we know. */
export class CredentialsCorruptError extends CredentialsError {
  constructor(path: string, detail: string) {
    super(
      "credentials_corrupt",
      `${path} is not a valid credentials file (${detail}). Fix the JSON by hand, or run \`gigareels login\` to start a new one (the current file is then kept as ${path}.corrupt-<time>).`,
      ["Fix the JSON by hand", "run `gigareels login` to start a new one"],
      path,
    );
    this.name = "CredentialsCorruptError";
  }
}

/** credentials.json was written by a newer gigareels; we leave it untouched. */
export class CredentialsUnsupportedVersionError extends CredentialsError {
  readonly version: unknown;
  constructor(path: string, version: unknown) {
    super(
      "credentials_unsupported_version",
      `${path} has format version ${JSON.stringify(version)}, newer than this gigareels understands (2); it was left untouched. Upgrade gigareels, or point GIGAREELS_CONFIG_DIR at another folder.`,
      ["Upgrade gigareels", "point GIGAREELS_CONFIG_DIR at another folder"],
      path,
    );
    this.name = "CredentialsUnsupportedVersionError";
    this.version = version;
  }
}

/** A symbolic link stands where credentials.json should be. */
export class CredentialsSymlinkError extends CredentialsError {
  constructor(path: string) {
    super(
      "credentials_symlink",
      `${path} is a symbolic link; gigareels refuses to read or write credentials through a link. Remove the link (rm ${path}) and run \`gigareels login\`, or point GIGAREELS_CONFIG_DIR at the real folder.`,
      [`Remove the link (rm ${path})`, "run `gigareels login`"],
      path,
    );
    this.name = "CredentialsSymlinkError";
  }
}

/** A folder (or a device, a FIFO) stands where credentials.json should be: chmod would not help. */
export class CredentialsNotAFileError extends CredentialsError {
  constructor(path: string, what: "a folder" | "not a regular file") {
    super(
      "credentials_unreadable",
      `${path} is ${what}, not a file, so gigareels cannot keep credentials in it. Move it away (mv ${path} ${path}.bak) and run \`gigareels login\`, or set GIGAREELS_CONFIG_DIR to another folder.`,
      [`mv ${path} ${path}.bak`, "run `gigareels login`"],
      path,
    );
    this.name = "CredentialsNotAFileError";
  }
}

/** The config folder (GIGAREELS_CONFIG_DIR, ~/.gigareels) is a file, or lies under one. */
export class ConfigDirNotAFolderError extends CredentialsError {
  constructor(dir: string, file: string) {
    super(
      "credentials_unwritable",
      `Cannot create the config folder ${dir}: ${file} is a file, not a folder. Move ${file} away, or set GIGAREELS_CONFIG_DIR to another folder.`,
      [`Move ${file} away`, "set GIGAREELS_CONFIG_DIR to another folder"],
      dir,
    );
    this.name = "ConfigDirNotAFolderError";
  }
}

/** credentials.json (or its folder) exists but cannot be read or written. */
export class CredentialsUnreadableError extends CredentialsError {
  constructor(path: string, reason: string, action: "read" | "write" = "read") {
    const disk = DISK_PROBLEMS[reason];
    super(
      action === "read" ? "credentials_unreadable" : "credentials_unwritable",
      disk
        ? `Cannot ${action} ${path}: ${disk.what} (${reason}). ${disk.fixes.join(", or ")}.`
        : `Cannot ${action} ${path} (${reason}). Make it yours and private (chown "$USER" ${path} && chmod 600 ${path}), or set GIGAREELS_CONFIG_DIR to another folder.`,
      disk
        ? disk.fixes.map((f, i) => (i === 0 ? f : f.charAt(0).toLowerCase() + f.slice(1)))
        : [`chown "$USER" ${path} && chmod 600 ${path}`, "set GIGAREELS_CONFIG_DIR to another folder"],
      path,
    );
    this.name = "CredentialsUnreadableError";
  }
}

/** Errors of the disk rather than of the file's owner or mode, and their fixes. */
const DISK_PROBLEMS: Record<string, { what: string; fixes: string[] }> = {
  ENOSPC: {
    what: "the disk is full",
    fixes: [
      "Free some space on that disk and run the command again",
      "set GIGAREELS_CONFIG_DIR to a folder on another disk",
    ],
  },
  EDQUOT: {
    what: "your disk quota is used up",
    fixes: [
      "Delete some of your files (or ask for a larger quota) and run the command again",
      "set GIGAREELS_CONFIG_DIR to a folder on another disk",
    ],
  },
  EROFS: {
    what: "the file system is read-only",
    fixes: [
      "Set GIGAREELS_CONFIG_DIR to a writable folder",
      "pass the key in GIGAREELS_API_KEY instead of storing it",
    ],
  },
};

/** The error codes that CredentialsUnreadableError words for people (the rest show as they are). */
export const FS_ERROR_CODES = new Set([
  "ENOSPC",
  "EDQUOT",
  "EROFS",
  "EACCES",
  "EPERM",
  "ENOTDIR",
  "EISDIR",
  "ELOOP",
  "EIO",
]);

/** A file-system error code in words, the code kept for searching: "there is no such file (ENOENT)". */
export function describeFsError(code: string): string {
  const words: Record<string, string> = {
    ENOENT: "there is no such file",
    ENOTDIR: "a folder on its path is a file",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "it is a folder",
    ELOOP: "too many symbolic links",
  };
  return words[code] ? `${words[code]} (${code})` : code;
}

/** GIGAREELS_API_KEY_FILE names a file we cannot read, or an empty one. */
export class ApiKeyFileError extends CredentialsError {
  constructor(path: string, reason: string | "empty") {
    super(
      "api_key_file_unreadable",
      reason === "empty"
        ? `GIGAREELS_API_KEY_FILE points to ${path}, which is empty. Write the key into ${path}, or unset GIGAREELS_API_KEY_FILE.`
        : `GIGAREELS_API_KEY_FILE points to ${path}, which cannot be read (${describeFsError(reason)}). Fix the path or its permissions, or unset GIGAREELS_API_KEY_FILE.`,
      // Worded as in the message, so the one-line error does not repeat them.
      [
        reason === "empty" ? `Write the key into ${path}` : "Fix the path or its permissions",
        "unset GIGAREELS_API_KEY_FILE",
      ],
      path,
    );
    this.name = "ApiKeyFileError";
  }
}

/** The OS keychain could not be used and the caller asked for it explicitly (no fallback). */
export class KeychainUnavailableError extends CredentialsError {
  constructor(reason: string) {
    super(
      "keychain_unavailable",
      `The OS keychain is not available (${reason}). Unlock or start your keyring (Secret Service on Linux), or store the key in the file with --insecure-storage or GIGAREELS_CREDENTIAL_STORE=file.`,
      ["Unlock or start your keyring", "--insecure-storage or GIGAREELS_CREDENTIAL_STORE=file"],
    );
    this.name = "KeychainUnavailableError";
  }
}

export class InvalidProfileNameError extends CredentialsError {
  constructor(name: string) {
    super(
      "invalid_profile",
      `Invalid profile name ${JSON.stringify(name.slice(0, 80))}: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, like default, local or prod.`,
      ['use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'],
    );
    this.name = "InvalidProfileNameError";
  }
}

export class ProfileNotFoundError extends CredentialsError {
  constructor(name: string, known: string[], path: string) {
    super(
      "profile_not_found",
      `No profile ${JSON.stringify(name)} in ${path}${known.length ? ` (profiles: ${known.join(", ")})` : " (no profiles yet)"}. Run \`gigareels login --profile ${name}\` to create it.`,
      [`gigareels login --profile ${name}`],
      path,
    );
    this.name = "ProfileNotFoundError";
  }
}

export class InvalidCredentialStoreError extends CredentialsError {
  constructor(value: string) {
    super(
      "invalid_credential_store",
      `GIGAREELS_CREDENTIAL_STORE is ${JSON.stringify(value.slice(0, 40))}; use "keychain" or "file" (export GIGAREELS_CREDENTIAL_STORE=file), or unset GIGAREELS_CREDENTIAL_STORE.`,
      ["export GIGAREELS_CREDENTIAL_STORE=file", "unset GIGAREELS_CREDENTIAL_STORE"],
    );
    this.name = "InvalidCredentialStoreError";
  }
}

/** A key handed to saveCredentials is not a GigaReels key. The message never shows it. */
export class InvalidKeyFormatError extends CredentialsError {
  constructor(problem: string) {
    super(
      "invalid_key_format",
      `Not saved: ${problem}. A GigaReels key is "giga_" followed by 32 letters or digits: copy it again from the dashboard (Settings -> API Keys).`,
      ["copy it again from the dashboard (Settings -> API Keys)"],
    );
    this.name = "InvalidKeyFormatError";
  }
}

/** Why the keychain could not be used. The message names the cause, never a key. */
export class KeychainFailure extends GigaReelsError {
  override readonly code = "keychain_unavailable";
  constructor(
    readonly reason: string,
    readonly kind: "missing" | "timeout" | "error",
  ) {
    super(reason);
  }
}
