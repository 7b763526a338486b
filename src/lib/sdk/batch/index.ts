/** Batch renders: the engine, its state file, its pacing and its input parsers. */
export {
  type BatchCounts,
  type BatchDeps,
  type BatchEndpoint,
  type BatchEvent,
  type BatchEventType,
  type BatchItem,
  type BatchLineResult,
  type BatchOptions,
  BatchChangedError,
  BatchItemsError,
  runBatch,
} from "./engine.js";
export {
  type BatchFormat,
  type BatchRecord,
  BatchInputError,
  type ParsedBatch,
  csvField,
  detectFormat,
  formatBatch,
  parseBatchText,
  parseCsvBatch,
  parseCsvRows,
  parseJsonl,
} from "./input.js";
export {
  budgetRenderPacer,
  type PaceTicket,
  type PaceWait,
  type PaceWindow,
  type RenderPacer,
} from "./pacer.js";
export {
  BatchBusyError,
  BatchState,
  BatchStateError,
  type BatchStateDocument,
  defaultStatePath,
  type LineState,
  type LineStatus,
  lineIdempotencyKey,
  submissionHash,
} from "./state.js";
