/**
 * What `import("keytar")` resolves to inside the standalone binary (see scripts/bundle.mjs).
 * Evaluating it loads the native module from the binary's asset; when that throws, the import
 * rejects and the credential store falls back to the file store with its usual warning.
 */
import { loadKeytarFromSea } from "./keytar-sea.js";

const keytar = loadKeytarFromSea();

export const getPassword = keytar.getPassword;
export const setPassword = keytar.setPassword;
export const deletePassword = keytar.deletePassword;
export const findPassword = keytar.findPassword;
export const findCredentials = keytar.findCredentials;
export default keytar;
