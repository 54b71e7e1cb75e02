// A worker thread that answers each message with exactly one reply, in order (the MAC worker and
// the cutting thread): replies resolve in submission order, a failure rejects every reply still
// pending, an idle thread does not keep the process alive, and close() waits until it is gone.
import { Worker, type WorkerOptions } from "node:worker_threads";
import { CairnError } from "@cairn/errors";

export class OrderedWorker<Reply> {
  private worker: Worker | undefined;
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | undefined;
  /** Resolves when the thread has exited. */
  private gone: Promise<void> = Promise.resolve();

  /** `script` must end its thread when it receives "close" (e.g. by closing its port). */
  constructor(
    private readonly what: string,
    private readonly script: string | URL,
    private readonly options: WorkerOptions,
    private readonly onReply: (reply: Reply) => void = () => {},
  ) {}

  /** Throws what stopped the thread (a failure, or close()), if anything did. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Replies not yet received. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Posts a message (moving `transfer`); the thread starts on first use. */
  post(message: unknown, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.start();
    if (this.waiting.length === 0) worker.ref();
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    worker.postMessage(message, transfer);
    return reply;
  }

  /**
   * Stops the thread; replies still pending are rejected. Asked to finish, the thread ends by
   * itself and the process stays up (ref'd) until it has: terminate() racing process.exit could
   * hang the exit (seen: 2 in 40 runs of `snapshot | chunk` on a small tree).
   */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new CairnError("failed", `the ${this.what} was stopped`));
    if (worker) {
      worker.ref();
      worker.postMessage("close");
      await this.gone;
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script, this.options);
    worker.on("message", (reply: Reply) => {
      this.onReply(reply);
      this.waiting.shift()?.resolve(reply);
      if (this.waiting.length === 0 && this.worker === worker) worker.unref(); // a closing thread stays ref'd until it exits
    });
    worker.on("error", (err) => this.fail(new CairnError("failed", `the ${this.what} failed: ${err.message}`)));
    this.gone = new Promise((resolve) =>
      worker.on("exit", (code) => {
        if (this.worker === worker) this.fail(new CairnError("failed", `the ${this.what} exited (code ${code})`));
        resolve();
      }),
    );
    this.worker = worker;
    return worker;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }
}
