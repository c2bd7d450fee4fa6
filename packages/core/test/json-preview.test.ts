import { describe, expect, it } from 'vitest';
import { JSON_PREVIEW_CHARS, MorConfigError, jsonPreview, validateMorConfig } from '../src/index.js';

describe('jsonPreview', () => {
  it('quotes values as JSON, cut to a short length, and says when a key is missing', () => {
    expect(jsonPreview('q_proj')).toBe('"q_proj"');
    expect(jsonPreview(undefined)).toBe('(missing)');
    expect(jsonPreview(new Array(1000).fill(1))).toHaveLength(JSON_PREVIEW_CHARS + 1);
  });

  it('describes a value nested deeper than JSON.stringify can follow instead of throwing RangeError', () => {
    const deep = JSON.parse('['.repeat(10_000) + ']'.repeat(10_000)) as unknown;
    expect(jsonPreview(deep)).toBe('[…] (nested too deeply to show)');
  });

  // Found by tooling/fuzz: validateMorConfig's message for such a value threw RangeError.
  it('lets validateMorConfig refuse a deeply nested value with a MorConfigError', () => {
    const deep = JSON.parse('['.repeat(10_000) + ']'.repeat(10_000)) as unknown;
    expect(() => validateMorConfig({ r: deep, experts: 2, targets: ['q'] })).toThrow(MorConfigError);
  });
});
