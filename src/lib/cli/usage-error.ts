// A bad flag, argument or input value (exit 2): the SDK's UsageError, one class for both.
export { UsageError } from "../sdk/errors.js";
