"""The bash completion: sourced into a plain bash (no bash-completion
package needed), it completes commands, options, option values and file
names for a few command lines; and its option lists are those of
`evident COMMAND --help` for every command the binary has."""

import os
import shlex
import shutil

from common import (Checker, arguments, command_options, commands,
                    global_options, need, run)


class Completer:
    def __init__(self, script, evident, cwd, env):
        self.script = script
        self.evident = evident
        self.cwd = cwd
        self.env = env

    def bash(self, body):
        prog = "source %s || exit 9\n%s\n" % (shlex.quote(self.script), body)
        _, out, err = run(["bash", "--norc", "--noprofile", "-c", prog],
                          cwd=self.cwd, env=self.env)
        return out, err

    def complete(self, line):
        """What <TAB> offers at the end of line ("evident co" or
        "evident collect ")."""
        words = line.split()
        if line.endswith(" "):
            words.append("")
        words[0] = self.evident
        body = ("COMP_WORDS=(%s)\nCOMP_CWORD=%d\nCOMP_LINE=%s\n"
                "COMP_POINT=${#COMP_LINE}\n_evident\n"
                "printf '%%s\\n' \"${COMPREPLY[@]}\"" % (
                    " ".join(shlex.quote(w) for w in words), len(words) - 1,
                    shlex.quote(line)))
        out, _ = self.bash(body)
        return sorted(w for w in out.split("\n") if w)

    def options(self, command):
        out, _ = self.bash("_evident_options %s" % shlex.quote(command))
        return set(out.replace(":", "").split())


def main():
    a = arguments(__doc__)
    need("bash")
    c = Checker("packaging/completion")
    shutil.rmtree(a.workdir, ignore_errors=True)
    work = a.workdir
    os.makedirs(os.path.join(work, "snapshots", "20250101T000000Z"))
    os.makedirs(os.path.join(work, "keys"))
    for f in ("evident.ini", "other.ini", "keys/signing.key.pub",
              "my config.ini"):
        with open(os.path.join(work, f), "w", encoding="utf-8") as fh:
            fh.write("\n")
    aws_config = os.path.join(work, "aws-config")
    with open(aws_config, "w", encoding="utf-8") as fh:
        fh.write("[default]\nregion = us-east-1\n[profile audit]\n"
                 "role_arn = arn:aws:iam::111111111111:role/x\n"
                 "[profile prod-ro]\n")
    aws_creds = os.path.join(work, "aws-credentials")
    with open(aws_creds, "w", encoding="utf-8") as fh:
        fh.write("[ci]\naws_access_key_id = AKIDEXAMPLE\n")
    env = dict(os.environ, AWS_CONFIG_FILE=aws_config,
               AWS_SHARED_CREDENTIALS_FILE=aws_creds, HOME=work)
    script = os.path.abspath(
        os.path.join(a.source, "packaging/completion/evident.bash"))
    rc, _, err = run(["bash", "-n", script], check=False)
    c.check(rc == 0, "evident.bash parses: " + err)
    comp = Completer(script, os.path.abspath(a.evident), work, env)

    out, _ = comp.bash("complete -p evident")
    c.check(out.strip() == "complete -F _evident evident",
            "registered for evident: " + out)

    have = commands(a.evident)
    offered = comp.complete("evident ")
    for cmd in have:
        c.check(cmd in offered, "'evident <TAB>' offers " + cmd)
    c.check(comp.complete("evident co") == ["collect", "controls"],
            "'evident co' -> collect controls: %s" % comp.complete(
                "evident co"))
    c.check(comp.complete("evident ver") == ["verify"], "'evident ver'")
    c.check(set(comp.complete("evident --")) >= global_options(a.evident),
            "'evident --' offers the global options: %s"
            % comp.complete("evident --"))
    c.check(comp.complete("evident --config ") ==
            ["aws-config", "aws-credentials", "evident.ini", "keys",
             "my config.ini", "other.ini", "snapshots"],
            "'--config ' completes files: %s"
            % comp.complete("evident --config "))
    c.check(comp.complete("evident --config o") == ["other.ini"],
            "'--config o' -> other.ini")
    c.check(comp.complete("evident --profile ") ==
            ["audit", "ci", "default", "prod-ro"],
            "'--profile ' offers the AWS profiles: %s"
            % comp.complete("evident --profile "))
    c.check(comp.complete("evident --config evident.ini col") == ["collect"],
            "a command after --config FILE")
    c.check(comp.complete("evident -v --profile audit verify --k") ==
            ["--key"], "'verify --k' after global options")

    c.check(comp.complete("evident collect --") ==
            ["--help", "--no-progress", "--output", "--shard"],
            "'collect --': %s" % comp.complete("evident collect --"))
    c.check(comp.complete("evident collect --output ") ==
            ["keys", "snapshots"],
            "'collect --output ' completes directories only: %s"
            % comp.complete("evident collect --output "))
    c.check(comp.complete("evident collect --shard ") == [],
            "'--shard ' offers nothing")
    c.check(comp.complete("evident verify ") == ["keys", "snapshots"],
            "'verify ' completes directories")
    c.check(comp.complete("evident verify --key keys/") ==
            ["keys/signing.key.pub"], "'verify --key keys/' completes files")
    c.check(comp.complete("evident sign --show ") ==
            ["authorization", "canonical", "request", "string-to-sign"],
            "'sign --show ' values")
    c.check(comp.complete("evident sign --show s") == ["string-to-sign"],
            "'sign --show s'")
    c.check(comp.complete("evident sign --service ") ==
            sorted("sts iam organizations cloudtrail config ec2 rds lambda "
                   "s3 elb elbv2".split()), "'sign --service ' services")
    c.check(comp.complete("evident request e") == ["ec2", "elb", "elbv2"],
            "'request e' -> ec2 elb elbv2")
    c.check(comp.complete("evident request ec2 ") == [],
            "'request ec2 ' offers no action")
    c.check(comp.complete("evident request iam ListUsers --region eu-west-") ==
            ["eu-west-1", "eu-west-2", "eu-west-3"],
            "'--region eu-west-' regions")
    c.check(comp.complete("evident report snapshots/x --format ") ==
            ["csv", "html", "json", "md", "ocsf"], "'report --format ' values")
    c.check(comp.complete("evident diff a b --format ") == ["json", "text"],
            "'diff --format ' values")
    c.check(comp.complete("evident report --history ") == [],
            "'report --history ' offers nothing")
    c.check(comp.complete("evident report --output o") == ["other.ini"],
            "'report --output o' completes files")
    c.check(comp.complete("evident diff ") == ["keys", "snapshots"],
            "'diff ' completes directories")
    c.check(comp.complete("evident --log-format j") == ["journal", "json"],
            "'--log-format j' values")
    c.check(comp.complete("evident --log-format json st") == ["status"],
            "a command after --log-format FORMAT")
    c.check(comp.complete("evident daemon --") == ["--help", "--once"],
            "'daemon --': %s" % comp.complete("evident daemon --"))
    controls = comp.complete("evident demo --control MSP-8.1")
    c.check("MSP-8.1.2" in controls and "MSP-8.1.4" in controls and
            all(x.startswith("MSP-8.1") for x in controls),
            "'demo --control MSP-8.1' asks evident controls: %s" % controls)

    # The option lists are the binary's.
    for cmd in have:
        takes = command_options(a.evident, cmd)
        listed = comp.options(cmd)
        c.check(listed == takes,
                "completion options of %s are those of its --help: "
                "missing %s, extra %s" % (cmd, sorted(takes - listed),
                                          sorted(listed - takes)))
    listed = comp.options("")
    c.check(listed >= global_options(a.evident),
            "the completion offers every global option of evident --help: "
            "missing %s" % sorted(global_options(a.evident) - listed))
    for opt in sorted(listed - global_options(a.evident)):
        print("NOTE: the completion offers global option %s, which this "
              "binary does not have yet" % opt)
    out, _ = comp.bash("echo $_evident_commands")
    for cmd in sorted(set(out.split()) - set(have)):
        print("NOTE: the completion offers '%s', which this binary does not "
              "have yet" % cmd)
    c.done()


if __name__ == "__main__":
    main()
