// @kfm-examples/adapter-files: the proof that a store is one package. Load it without forking the CLI:
//   kfm-migrate --adapter ./examples/adapter-files/dist/index.js apply BUNDLE
// or KFM_ADAPTERS=@kfm-examples/adapter-files. It exports its StoreAdapter as `adapter` and as default.
import { filesAdapter } from './adapter.js';

export { filesAdapter, filesVocabulary, manifestLanguage, FileTreeSession } from './adapter.js';
export { parseManifests, type FileOperation } from './manifest.js';
export const adapter = filesAdapter;
export default filesAdapter;
