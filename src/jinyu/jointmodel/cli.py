"""`jinyu joint ...`: joint modelling between the hub and banks, each party in its own process and data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from jinyu.core.cli_kit import console, handle_errors, print_json, print_table

app = typer.Typer(
    help="联合建模（数据可用不可见）/ joint modelling without disclosure: `jinyu joint job show --dir D --job-id J`",
    no_args_is_help=True,
)
party_app = typer.Typer(help="参与方节点 / a party's node: init, trust, key, serve", no_args_is_help=True)
job_app = typer.Typer(help="联合建模任务 / joint jobs: create, accept, run, show", no_args_is_help=True)
model_app = typer.Typer(help="模型登记 / the model registry of a party", no_args_is_help=True)
app.add_typer(party_app, name="party")
app.add_typer(job_app, name="job")
app.add_typer(model_app, name="model")

DIR = typer.Option(..., "--dir", help="参与方目录 / the party's data dir")
JSON = typer.Option(False, "--json", help="输出 JSON / print JSON")
# With one of these, `job create|accept|run|show` also file to (or read from) the platform's register, acting as
# that user: the same use cases and checks as /api/v1/joint.
AS_USER = typer.Option(
    None, "--as-user", help="同时登记到平台，以该用户身份 / also file to the platform as user"
)
API_KEY = typer.Option(None, "--api-key", help="平台服务账号 API key / a platform service account's key")
PASSWORD_STDIN = typer.Option(
    False, "--password-stdin", help="从标准输入读密码 / read the password from stdin"
)


def _platform(as_user: str | None, api_key: str | None, password_stdin: bool, call: Any) -> Any:
    """Run `call(session, principal)` in one unit of work as the acting user; None when no user is given."""
    return _acting(as_user, api_key, password_stdin)(call)


def _acting(as_user: str | None, api_key: str | None, password_stdin: bool) -> Any:
    """A runner of `call(session, principal)`, each in its own unit of work, as the acting user (signed in once,
    so a password read from stdin is read once); it returns None for every call when no user is given."""
    if not as_user and not api_key:
        return lambda call: None
    from jinyu import config
    from jinyu.core import runtime
    from jinyu.party.acting import acting_principal

    settings = config.get_settings()
    principal = acting_principal(settings, as_user, api_key, password_stdin)

    def run(call: Any) -> Any:
        with runtime.unit_of_work(settings) as session:
            return call(session, principal)

    return run


def _with_platform(value: dict[str, Any], filed: Any) -> dict[str, Any]:
    if filed is None:
        return value
    return {**value, "platform_status": filed.status, "platform_model": filed.model and filed.model.version}


def _out(value: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(value)
        return
    print_table("", ["字段 / field", "值 / value"], [[k, v] for k, v in value.items()])


@party_app.command("init")
@handle_errors
def party_init(
    directory: Path = DIR,
    name: str = typer.Option(..., help="参与方名称 / party name, e.g. bank-a"),
    role: str = typer.Option(..., help="guest（银行，有标签）| host（平台，政务特征）| regulator"),
    data: Path | None = typer.Option(None, help="CSV 数据文件 / the party's CSV data file"),
    id_column: str = typer.Option("id", help="样本 id 列 / id column"),
    label_column: str = typer.Option("y", help="标签列（仅 guest）/ label column (guest only)"),
    json_out: bool = JSON,
) -> None:
    """初始化参与方目录并生成签名密钥 / create a party dir and its Ed25519 key.

    Example: jinyu joint party init --dir bank --name bank-a --role guest --data guest.csv
    """
    from jinyu.jointmodel import service

    _out(service.init_party(directory, name, role, data, id_column, label_column), json_out)


@party_app.command("trust")
@handle_errors
def party_trust(
    directory: Path = DIR,
    name: str = typer.Option(..., help="对方名称 / peer name"),
    key: str = typer.Option(..., help="对方 Ed25519 公钥（十六进制）/ peer public key, hex"),
) -> None:
    """登记信任的对方公钥 / trust a peer's public key.

    Example: jinyu joint party trust --dir bank --name hub --key ab12...
    """
    from jinyu.jointmodel import service

    _out(service.trust(directory, name, key), False)


@party_app.command("key")
@handle_errors
def party_key(directory: Path = DIR, json_out: bool = JSON) -> None:
    """显示本方公钥 / print this party's public key. Example: jinyu joint party key --dir hub --json"""
    from jinyu.jointmodel import service

    _out(service.public_key(directory), json_out)


@party_app.command("serve")
@handle_errors
def party_serve(
    directory: Path = DIR,
    host: str = typer.Option("127.0.0.1", help="监听地址 / listen address"),
    port: int = typer.Option(8765, help="监听端口 / port"),
    tls_cert: Path | None = typer.Option(
        None, help="TLS 证书（PEM）：只用 HTTPS / TLS certificate, serve HTTPS only"
    ),
    tls_key: Path | None = typer.Option(None, help="TLS 私钥（PEM）/ TLS private key"),
) -> None:
    """运行 host 节点，应答 guest 的协议消息 / run the host's node.

    Example: jinyu joint party serve --dir hub --port 8765
    """
    from jinyu.jointmodel.party import PartyDir
    from jinyu.jointmodel.server import make_server

    server = make_server(PartyDir(directory), host, port, tls_cert, tls_key)
    scheme = "https" if tls_cert and tls_key else "http"
    console.print(f"joint party serving on {scheme}://{host}:{server.server_address[1]}", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@job_app.command("create")
@handle_errors
def job_create(
    directory: Path = DIR,
    job_id: str = typer.Option(..., help="任务 id / job id"),
    guest: str = typer.Option(..., help="guest 名称（银行）/ the bank"),
    host: str = typer.Option(..., help="host 名称（平台）/ the hub"),
    model_name: str = typer.Option(..., help="登记的模型名 / model name in the registry"),
    psi: str = typer.Option("intersection", help="intersection（求交）| size（只求交集大小）"),
    epochs: int = typer.Option(5),
    learning_rate: float = typer.Option(0.5),
    l2: float = typer.Option(0.0),
    batch_size: int = typer.Option(4096, help="16..4096 (每批行数 / rows a batch)"),
    valid_share: float = typer.Option(0.2, help="验证集比例 / validation share"),
    bins: int = typer.Option(10, help="评分卡分箱数 / scorecard bins per feature"),
    seed: int | None = typer.Option(None, help="批次与划分的种子 / seed of batches and split"),
    out: Path | None = typer.Option(None, help="另存任务文件 / also write the job file here"),
    guest_org: str | None = typer.Option(
        None, help="平台上 guest 银行总行的机构 id（与 --as-user 同用）/ the bank's org id on the platform"
    ),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """监管方发起并签名任务，可同时登记到平台 / the regulator declares and signs a job (and registers it).

    Example: jinyu joint job create --dir reg --job-id j1 --guest bank-a --host hub --model-name sme-risk --out j1.json
    --guest-org ORG_ID --as-user analyst
    """
    from jinyu.core.errors import invalid
    from jinyu.jointmodel import service

    spec = dict(
        job_id=job_id,
        guest=guest,
        host=host,
        model_name=model_name,
        psi=psi,
        epochs=epochs,
        learning_rate=learning_rate,
        l2=l2,
        batch_size=batch_size,
        valid_share=valid_share,
        bins=bins,
        seed=seed,
    )
    if (as_user or api_key) and not guest_org:
        raise invalid("guest_org", "登记到平台须给出 --guest-org / --guest-org is needed to register the job")
    created = service.create_job(directory, out, **spec)
    filed = _platform(
        as_user, api_key, password_stdin,
        lambda s, p: service.register_job(s, p, directory, job_id, str(guest_org)),
    )  # fmt: skip
    _out(_with_platform(created, filed), json_out)


@job_app.command("accept")
@handle_errors
def job_accept(
    directory: Path = DIR,
    job: Path = typer.Option(..., help="监管方签名的任务文件 / the signed job file"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """参与方核验并接受任务，可同时在平台登记接受 / a party verifies and accepts a job (and files the acceptance:
    the bank as a bank head-office user; the hub as a regulator supervisor other than the job's declarer).

    Example: jinyu joint job accept --dir bank --job j1.json --as-user bank_risk ;
    jinyu joint job accept --dir hub --job j1.json --as-user supervisor
    """
    from jinyu.jointmodel import service

    accepted = service.accept_job(directory, job)
    filed = _platform(
        as_user, api_key, password_stdin,
        lambda s, p: service.file_acceptance(s, p, directory, accepted["job_id"]),
    )  # fmt: skip
    _out(_with_platform(accepted, filed), json_out)


@job_app.command("run")
@handle_errors
def job_run(
    directory: Path = DIR,
    job_id: str = typer.Option(..., help="任务 id / job id"),
    host_url: str = typer.Option(..., help="host 节点地址 / the host node, e.g. http://127.0.0.1:8765"),
    ca_file: Path | None = typer.Option(
        None, help="https 时信任的 CA 证书 / CA certificate for an https host URL"
    ),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """guest 运行（或续跑）任务，可把签名报告交平台（完成则登记模型版本）/ the guest runs or resumes a job and
    files its signed report to the platform (a done job registers the model version there).

    Example: jinyu joint job run --dir bank --job-id j1 --host-url http://127.0.0.1:8765 --as-user bank_risk --json
    """
    from jinyu.core.errors import JinyuError
    from jinyu.jointmodel import service

    platform = _acting(as_user, api_key, password_stdin)

    def file_report() -> Any:
        return platform(lambda s, p: service.file_report(s, p, directory, job_id))

    # On the platform a job runs only once every party's acceptance is on the register.
    platform(lambda s, p: service.check_runnable(s, p, job_id))
    try:
        result = service.run_job(directory, job_id, host_url, ca_file)
    except JinyuError:
        file_report()  # the platform learns of the failure too; the run's error is what the user sees
        raise
    _out(_with_platform(result, file_report()), json_out)


@job_app.command("show")
@handle_errors
def job_show(
    directory: Path | None = typer.Option(None, "--dir", help="参与方目录 / the party's data dir"),
    job_id: str = typer.Option(..., help="任务 id / job id"),
    as_user: str | None = AS_USER,
    api_key: str | None = API_KEY,
    password_stdin: bool = PASSWORD_STDIN,
    json_out: bool = JSON,
) -> None:
    """任务状态、审计链与抓包摘要（--dir），或平台登记的任务与模型（--as-user）/ a job's state, audit chain and
    capture in a party dir, or the platform's record of it and its model.

    Example: jinyu joint job show --dir bank --job-id j1 ; jinyu joint job show --job-id j1 --as-user analyst
    """
    from jinyu.core.errors import InvalidInput
    from jinyu.jointmodel import service

    if directory is None and not (as_user or api_key):
        raise InvalidInput(detail="请给出 --dir 或 --as-user/--api-key / give --dir or --as-user/--api-key")
    shown: dict[str, Any] = service.show_job(directory, job_id) if directory is not None else {}
    filed = _platform(as_user, api_key, password_stdin, lambda s, p: service.platform_job(s, p, job_id))
    if filed is not None:
        shown = (
            {**shown, "platform": filed.model_dump(mode="json")} if shown else filed.model_dump(mode="json")
        )
    _out(shown, json_out)


@model_app.command("list")
@handle_errors
def model_list(directory: Path = DIR, json_out: bool = JSON) -> None:
    """本方持有的模型（各自的一半）/ models this party holds its half of. Example: jinyu joint model list --dir bank"""
    from jinyu.jointmodel import service

    models = service.list_models(directory)
    if json_out:
        print_json(models)
        return
    print_table(
        "模型 / models",
        ["model", "version", "job", "role", "auc"],
        [[m["model"], m["version"], m["job_id"], m["role"], m["metrics"].get("auc")] for m in models],
    )


@model_app.command("score")
@handle_errors
def model_score(
    directory: Path = DIR,
    model: str = typer.Option(..., help="模型名 / model name"),
    version: int | None = typer.Option(None, help="版本，缺省为最新 / version (latest if left out)"),
    ids: Path = typer.Option(..., help="待评分 id 文件，每行一个 / file of ids to score, one a line"),
    host_url: str = typer.Option(..., help="host 节点地址 / the host node"),
    ca_file: Path | None = typer.Option(
        None, help="https 时信任的 CA 证书 / CA certificate for an https host URL"
    ),
    json_out: bool = JSON,
) -> None:
    """联合评分（不汇集数据）/ score rows jointly with a registered scorecard, without pooling.

    Example: jinyu joint model score --dir bank --model sme-risk --ids ids.txt --host-url http://127.0.0.1:8765
    """
    from jinyu.jointmodel import service

    result = service.score(directory, model, version, ids, host_url, ca_file)
    if json_out:
        print_json(result)
        return
    print_table(
        f"{result['model']} v{result['version']}",
        ["id", "score", "pd"],
        [[r["id"], r["score"], r["pd"]] for r in result["scores"]],
    )
    for row in result["unscored"]:
        console.print(f"未评分 / not scored: {row['id']} — {row['reason']}", highlight=False)


@job_app.command("report")
@handle_errors
def job_report(
    directory: Path = DIR,
    job_id: str = typer.Option(..., help="任务 id / job id"),
    out: Path = typer.Option(..., help="签名报告文件 / the signed report file to write"),
) -> None:
    """参与方给监管方的签名报告 / a party's signed report of a job for the regulator.

    Example: jinyu joint job report --dir bank --job-id j1 --out j1-bank.json
    """
    import json

    from jinyu.jointmodel import report
    from jinyu.jointmodel.party import PartyDir

    document = report.make(PartyDir(directory), job_id)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    _out({"report": str(out), "audit_head": document["report"]["audit_head"]}, False)


@job_app.command("receive")
@handle_errors
def job_receive(
    directory: Path = DIR,
    report_file: Path = typer.Option(..., "--report", help="参与方的签名报告 / a party's signed report"),
    json_out: bool = JSON,
) -> None:
    """监管方核验并登记参与方报告 / the regulator verifies and files a party's report.

    Example: jinyu joint job receive --dir reg --report j1-bank.json --json
    """
    from jinyu.jointmodel import report
    from jinyu.jointmodel.party import PartyDir

    _out(report.receive(PartyDir(directory), report_file), json_out)
