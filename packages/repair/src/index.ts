// @cairn/repair: rebuild the index from the packs alone, and drop damaged packs and objects so
// the next backup re-uploads what they held (docs/verify.md, "Repair").
export { rebuildIndex, PACKS_PER_INDEX, type RebuildResult } from "./rebuild.js";
export { repairDamage, DAMAGED_PREFIX, type RepairOptions, type RepairResult } from "./damaged.js";
