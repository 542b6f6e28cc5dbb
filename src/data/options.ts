// The options of chunked and streamed data, declared once (src/options/declare.ts): the estimator's
// chunkRows and memoryBudget and the CLI's --chunk-rows and --memory-budget derive from them.
import { integer } from '../options/declare.ts';

export const DATA_OPTIONS = {
  chunkRows: integer('the chunk size (chunkRows)', 'rows per chunk: each step adds the chunks\' sums in float64, in chunk order, so the result depends on R only (streamed, in memory, or over ranks)', 1, { flag: { name: 'chunk-rows', arg: 'R' } }),
  memoryBudget: integer('the memory budget in bytes (memoryBudget)', 'the bytes the chunks in flight may take, such as 256M or 2G: sets the chunk size when --chunk-rows is not given', 1, { flag: { name: 'memory-budget', arg: 'SIZE' } }),
} as const;

export type DataOptionKey = keyof typeof DATA_OPTIONS;
