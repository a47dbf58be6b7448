// Member import: a CSV or JSON-lines file, streamed, cleaned, de-duplicated and written in
// batches, with a report by row and column. `importMembers` ties the steps together.

export { type CleanRow, cleanRow, type ImportSettings, memberIdFromPhone } from './clean';
export { decodeText, detectEncoding, EncodingError, sniffBytes } from './decode';
export { type DuplicateTracker, type DuplicateVerdict, duplicateTracker } from './dedupe';
export {
  attributeTypes,
  bindHeader,
  type ColumnBinding,
  foldHeader,
  formatImportTarget,
  type HeaderBinding,
  type ImportField,
  type ImportMapping,
  type ImportTarget,
  importFields,
  importMapping,
  parseImportTarget,
  recognizeColumn,
} from './mapping';
export {
  type FinishedImportReport,
  type ImportMembersOptions,
  importMembers,
  type MemberImportPort,
} from './pipeline';
export { type ImportCell, type ImportItem, readImportRows } from './read';
export * from './report';
