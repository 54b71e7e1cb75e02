// `cairn key`: the library behind the CLI, for tests and `cairn init`.
export { keyNew, type KeyNewOptions } from "./new.js";
export { keyWriter, type KeyWriterOptions } from "./writer.js";
export { keyShow, type KeyDescription } from "./show.js";
