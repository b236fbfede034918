/**
 * How much of a notebook save rewrites job outputs (used by `saveOutputs` in outputs.ts).
 *
 * Each rewrite makes JupyterLab re-render that output and lay out its cell: with 200 running jobs, rewriting
 * all of them made every save (autosave: every 2 minutes) one or two 55-110 ms tasks that froze the page. So an
 * output whose job ended is rewritten at once, and outputs whose jobs only moved on share a small time budget,
 * taken in turn over successive saves of the same notebook so that each is refreshed before long.
 */

/** At most this much of a save's time rewrites outputs of jobs that only moved on (not ended). */
export const MOVED_BUDGET_MS = 8;

export type Rewrite = () => void;

export class RewriteBudget {
  /** Where the next save's budgeted rewrites start. */
  private from = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly budgetMs = MOVED_BUDGET_MS
  ) {}

  /**
   * Run every `urgent` rewrite, then `moved` ones, from where the last save stopped, while less than the
   * budget has passed since `started` (the save's start). Returns how many moved rewrites ran.
   */
  run(started: number, urgent: Rewrite[], moved: Rewrite[]): number {
    for (const rewrite of urgent) {
      rewrite();
    }
    for (let done = 0; done < moved.length; done++) {
      if (this.now() - started > this.budgetMs) {
        this.from = (this.from + done) % moved.length;
        return done;
      }
      moved[(this.from + done) % moved.length]();
    }
    this.from = 0;
    return moved.length;
  }
}
