/** The NVS v2 partition format: decode, generate, CSV. Imports nothing from other rooms. */
export * from './model.ts';
export { decodePartition } from './decode.ts';
export type { NvsDecoded, NvsPageInfo } from './decode.ts';
export { generatePartition } from './generate.ts';
export { CSV_HEADER, DATA_ENCODINGS, formatNvsCsv, loadNvsCsv, parseNvsCsv, parseNvsValue } from './csv.ts';
export type { DataEncoding } from './csv.ts';
export { decodedToJson } from './json.ts';
export type { NvsJson, NvsJsonItem } from './json.ts';
export { NvsInputError, formatNvsProblem } from './errors.ts';
export type { NvsProblem } from './errors.ts';
export { MIN_PARTITION_SIZE, valueProblem, nameProblem } from './limits.ts';
export { INTEGER_TYPE_NAMES, MAX_KEY_LENGTH, PAGE_SIZE } from './format.ts';
export { csvField, parseCsvRecords } from './csv-records.ts';
export type { CsvRecord } from './csv-records.ts';
export { stringBytes } from './limits.ts';
export type { IntegerType } from './format.ts';
