export type { Storage, ObjectInfo, PutOptions } from "./storage.js";
