import { describe, expect, it } from 'vitest';
import { isCorrect, meanAccuracy, normalizeAnswer, scoreByTask } from '../src/index.js';

describe('scorer', () => {
  it('normalises: first line, case, spaces, closing punctuation', () => {
    expect(normalizeAnswer(' Cold.\nthe opposite of hot')).toBe('cold');
    expect(normalizeAnswer('  domestic   Dog ;')).toBe('domestic dog');
    expect(normalizeAnswer('\ncold')).toBe('');
  });

  it('exact match against any valid answer, nothing partial', () => {
    const answers = ['canine', 'canid', 'domestic animal'];
    expect(isCorrect(' canid\n', answers)).toBe(true);
    expect(isCorrect(' Domestic animal.', answers)).toBe(true);
    expect(isCorrect(' domestic', answers)).toBe(false);
    expect(isCorrect(' canines', answers)).toBe(false);
    expect(isCorrect(' canine animal', answers)).toBe(false);
    expect(isCorrect('', ['x'])).toBe(false);
  });

  it('per-task accuracy and the unweighted mean over tasks', () => {
    const s = scoreByTask([
      { task: 'antonym', answers: ['cold'], prediction: ' cold' },
      { task: 'antonym', answers: ['cold'], prediction: ' warm' },
      { task: 'antonym', answers: ['short', 'little'], prediction: ' little' },
      { task: 'antonym', answers: ['cold'], prediction: '' },
      { task: 'pos', answers: ['noun', 'verb'], prediction: ' verb\n' },
    ]);
    expect(s).toEqual({
      antonym: { total: 4, correct: 2, accuracy: 0.5 },
      pos: { total: 1, correct: 1, accuracy: 1 },
    });
    expect(meanAccuracy({ antonym: 0.5, pos: 1 })).toBe(0.75);
    expect(() => meanAccuracy({})).toThrow(/no tasks/);
  });
});
