// A small built-in multi-task data set for training an adapter in the browser. Each task has its own prompt
// prefix, so a MoR router has a reason to send different tasks to different experts. Causal-LM convention
// (mor-spec.md §4): only the completion tokens count towards the loss.

/** One prompt/completion row. */
export interface TrainExample {
  task: string;
  prompt: string;
  completion: string;
}

export const TASKS = ['antonym', 'plural', 'reverse', 'sentiment'] as const;
export type TaskName = (typeof TASKS)[number];

const PAIRS: Record<TaskName, Array<[string, string]>> = {
  antonym: [
    ['hot', 'cold'],
    ['big', 'small'],
    ['fast', 'slow'],
    ['up', 'down'],
    ['open', 'closed'],
    ['early', 'late'],
  ],
  plural: [
    ['dog', 'dogs'],
    ['box', 'boxes'],
    ['city', 'cities'],
    ['mouse', 'mice'],
    ['leaf', 'leaves'],
    ['child', 'children'],
  ],
  reverse: [
    ['abc', 'cba'],
    ['stop', 'pots'],
    ['moon', 'noom'],
    ['ranks', 'sknar'],
    ['mix', 'xim'],
    ['tiny', 'ynit'],
  ],
  sentiment: [
    ['I love this small dog', 'positive'],
    ['the soup was cold and bland', 'negative'],
    ['what a wonderful day', 'positive'],
    ['this is the worst film', 'negative'],
    ['the garden looks lovely', 'positive'],
    ['my phone broke again', 'negative'],
  ],
};

/** The data set, task by task. */
export const MULTITASK_EXAMPLES: readonly TrainExample[] = TASKS.flatMap((task) =>
  PAIRS[task].map(([input, output]) => ({ task, prompt: `${task}: ${input} =>`, completion: ` ${output}` })),
);
