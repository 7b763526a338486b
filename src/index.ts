// The SDK entry: `import { GigaReels } from "@gigareels/sdk"`. Loads neither oclif nor keytar
// (the credential store is imported lazily, only when a client needs a stored key).
export { GigaReels } from "./lib/sdk/client.js";
export { GigaReels as default } from "./lib/sdk/client.js";
// One error root: every error the SDK throws extends GigaReelsError, and all are exported here.
export * from "./lib/sdk/errors.js";
export {
  ApiKeyFileError,
  ConfigDirNotAFolderError,
  CredentialsCorruptError,
  CredentialsError,
  CredentialsNotAFileError,
  CredentialsSymlinkError,
  CredentialsUnreadableError,
  CredentialsUnsupportedVersionError,
  InvalidCredentialStoreError,
  InvalidKeyFormatError,
  InvalidProfileNameError,
  KeychainFailure,
  KeychainUnavailableError,
  ProfileNotFoundError,
} from "./lib/credentials/errors.js";
export { LockTimeoutError } from "./lib/fs/errors.js";
export { ProxyError } from "./lib/net/proxy.js";
export { DEFAULT_BASE_URL, isLoopbackHost, validateApiKey, validateBaseUrl } from "./lib/sdk/config.js";
export { maskKey, redactKeys } from "./lib/credentials/key-format.js";
export { Transport, type TransportConfig } from "./lib/sdk/transport.js";
export { SDK_VERSION } from "./lib/sdk/version.js";
export {
  DEFAULT_MAX_OUTAGE_MS,
  OutageError,
  type WaitEvent,
  type WaitEventType,
  type WaitForRenderOptions,
} from "./lib/sdk/wait.js";
export type { DownloadCallOptions, DownloadOutcome } from "./lib/sdk/download/client.js";
export type { DownloadProgress } from "./lib/sdk/download/stream.js";
export { DownloadError } from "./lib/sdk/download/errors.js";
export type * from "./lib/sdk/types.js";
export type {
  BatchCounts,
  BatchEndpoint,
  BatchEvent,
  BatchEventType,
  BatchItem,
  BatchLineResult,
  BatchOptions,
} from "./lib/sdk/batch/engine.js";
export type { PaceTicket, PaceWait, PaceWindow, RenderPacer } from "./lib/sdk/batch/pacer.js";
