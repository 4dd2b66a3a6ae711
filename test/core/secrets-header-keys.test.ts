import { describe, expect, it } from 'vitest';
import { hideNamed, redactFreeText, redactTagMap } from '../../core/secrets/values.js';
import { redactScriptText } from '../../core/secrets/script.js';

describe('credential header names as keys (JSON, tags, scripts)', () => {
  it('a JSON object hides an Authorization / Proxy-Authorization value but keeps its scheme, as the one-line text path does', () => {
    expect(redactFreeText('{"Authorization": "Bearer r10-h-1"}')).toBe('{"Authorization":"Bearer [redacted]"}');
    expect(redactFreeText('Authorization: Bearer r10-h-1')).toBe('Authorization: Bearer [redacted]');
    expect(redactFreeText('{"headers": {"Proxy-Authorization": "Basic cjEwOmgy", "Accept": "text/plain"}, "lr": 0.1}'))
      .toBe('{"headers":{"Proxy-Authorization":"Basic [redacted]","Accept":"text/plain"},"lr":0.1}');
    // No scheme: the whole value; lower case too.
    expect(redactFreeText('{"authorization": "r10-h-3"}')).toBe('{"authorization":"[redacted]"}');
    expect(redactFreeText('{"X-Api-Key": "r10-h-4"}')).toBe('{"X-Api-Key":"[redacted]"}');
    // A session cookie is a bearer credential: hidden whole.
    expect(redactFreeText('{"Cookie": "session=r10-h-5"}')).toBe('{"Cookie":"[redacted]"}');
  });

  it('harmless header maps and unset values stay as written', () => {
    for (const keep of ['{"Authorization": ""}', '{"Authorization": null}', '{"Accept": "application/json", "lr": 0.1}', '{"Authorization": "Bearer [redacted]"}', '{"cookie_name": "sid"}'])
      expect(redactFreeText(keep)).toBe(keep);
  });

  it('hideNamed and tag maps keep the scheme of a credential header', () => {
    expect(hideNamed('Authorization', 'Bearer r10-h-6')).toBe('Bearer [redacted]');
    expect(hideNamed('Proxy-Authorization', 'Basic')).toBe('[redacted]');
    expect(hideNamed('Authorization', '')).toBeUndefined();
    expect(hideNamed('Accept', 'text/plain')).toBeUndefined();
    expect(redactTagMap({ Authorization: 'Token r10-h-7', team: 'fraud' })).toEqual({ Authorization: 'Token [redacted]', team: 'fraud' });
  });

  it('JSON too long to parse is read by pairs: the scheme stays there too', () => {
    const long = `{"Authorization": "Bearer r10-h-8", "pad": "${'x'.repeat(70_000)}"`;
    const out = redactFreeText(long);
    expect(out).toContain('"Authorization": "Bearer [redacted]"');
    expect(out).not.toContain('r10-h-8');
  });

  it('a script keeps the auth scheme of a header dict value', () => {
    expect(redactScriptText('headers = {"Authorization": "Bearer r10-h-9"}')).toBe('headers = {"Authorization": "Bearer [redacted]"}');
    expect(redactScriptText("h = {'Proxy-Authorization': 'Basic r10-h-10'}")).toBe("h = {'Proxy-Authorization': 'Basic [redacted]'}");
    expect(redactScriptText('headers = {"Authorization": "r10-h-11"}')).toBe('headers = {"Authorization": "[redacted]"}');
    expect(redactScriptText('{"Authorization": "Bearer r10-h-12", "X-Api-Key": "r10-h-13"}')).toBe('{"Authorization": "Bearer [redacted]", "X-Api-Key": "[redacted]"}');
    const keep = 'auth = {"Authorization": f"Bearer {tok}"}';
    expect(redactScriptText(keep)).toBe(keep);
  });
});
