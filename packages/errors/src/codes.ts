// Exit codes are part of cairn's interface: scripts and cron jobs branch on them.
// Never renumber; add new kinds at the end. docs/exit-codes.md mirrors this table.
export const exitCodes = {
  ok: 0,
  failed: 1, // an unexpected internal failure (a bug): the message says what
  usage: 2, // bad flags or arguments
  partial: 3, // completed, but some files could not be read (reported on stderr)
  unverified: 4, // completed from raw stdin: a dump that died early also ends in a clean EOF
  stream: 10, // the input stream is malformed: bad magic, bad frame, truncated, no end frame
  version: 11, // the input uses a format version this build does not know
  upstream: 12, // an upstream stage failed and said so in an error frame
  integrity: 13, // data does not match its digest, id, MAC or signature
  key: 14, // a key is missing, wrong, or does not match the repository
  notFound: 15, // a path, object, snapshot or repository does not exist
  storage: 16, // the store failed: network, credentials, server errors after retries
  staleKnown: 17, // a known-chunks file names chunks the repository no longer holds
  refused: 18, // an unsafe or destructive action was refused (overwrite, path escape)
  io: 19, // a local read or write failed (disk full, permission denied)
  command: 20, // the command run by --from-command failed or died on a signal
  interrupted: 21, // stopped by a signal (SIGINT/SIGTERM); nothing is half-committed
  problems: 22, // verify found damage: the report names each object
} as const;

export type ErrorKind = keyof typeof exitCodes;
