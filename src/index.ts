// The SDK entry: `import { GigaReels } from "@gigareels/sdk"`. Loads neither oclif nor keytar.
export * from "./lib/sdk/errors.js";
