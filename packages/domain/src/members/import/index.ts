// Member import: a CSV or JSON-lines file, streamed, cleaned, de-duplicated and written in
// batches, with a report by row and column. `importMembers` ties the steps together; the
// decoder, the reader and the duplicate tracker stay inside.

export { type CleanRow, cleanRow, type ImportSettings, memberIdFromPhone } from './clean';
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
export type { ImportCell } from './read';
export * from './report';
