/**
 * What `chunk` needs from a writer key, and `chunk -d` from an owner key: the id key (chunk ids)
 * and, for cutting, the chunker secret (the gear table). @cairn/keys reads them from key files.
 */
export interface ChunkSecrets {
  idKey: Uint8Array;
  chunkerSecret: Uint8Array;
}
