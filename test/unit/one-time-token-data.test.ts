import { describe, expect, it } from '@jest/globals';
import { fieldsOf } from '../../src/modules/one-time-token/one-time-token.service.js';

describe("a link token's data", () => {
  it('gives the named string fields', () => {
    expect(fieldsOf('{"from":"a@x.io","to":"b@x.io","extra":1}', ['from', 'to'])).toEqual({
      from: 'a@x.io',
      to: 'b@x.io',
    });
  });

  it.each([
    ['absent', undefined],
    ['not JSON', 'a@x.io'],
    ['null', 'null'],
    ['a field missing', '{"from":"a@x.io"}'],
    ['a field not a string', '{"from":"a@x.io","to":7}'],
  ])('gives nothing when the data is %s', (_label, data) => {
    expect(fieldsOf(data, ['from', 'to'])).toBeUndefined();
  });
});
