// The library API of staticstreams (the package's main export): what the CLI is built on.
//   build     images (+ a previous tree) → a published tree
//   prune / withdraw   a published tree rewritten in place: retention applied / versions taken off for good
//   mirror / promote   upstream servers → a tree that follows them / chosen versions added to another channel
//   verifyTree / listTree   inspect a published tree, from a folder or a URL
//   startPreview            serve a tree locally with the rules a CDN would apply
//   loadConfig / parseConfig   staticstreams.yaml
// Everything else under generator/ is internal and may change.

export { build, type BuildOptions, type BuildResult, type Lifecycle, type MirrorStats, type Reporter } from './pipeline/build.js';
export {
  mirror,
  promote,
  prune,
  withdraw,
  type MirrorOptions,
  type PromoteOptions,
  type TreeCommandOptions,
  type UpstreamOptions,
  type WithdrawOptions,
} from './pipeline/commands.js';
export { FILTER_KEYS, filterProblem, parseFilters, type Filter } from './config/filters.js';
export { DEFAULT_HTTP, type HttpLimits } from './source/http.js';
export { verifyTree, type TreeProblem, type VerifyReport } from './inspect/verify.js';
export { listTree, type ListRow } from './inspect/list.js';
export { startPreview, type RunningPreview, type ServeOptions } from './serve/server.js';
export {
  configSchema,
  DEFAULT_CONFIG,
  loadConfig,
  parseConfig,
  TARGETS,
  type Config,
  type MirrorSettings,
  type ObjectStorageSettings,
  type SiteSettings,
  type Target,
} from './config/config.js';
export { BuildError, BuildFailed, ImageError, UsageError } from './util/errors.js';
export type { Catalog, CatalogProduct } from './formats/catalog.js';
