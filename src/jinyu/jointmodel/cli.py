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
    json_out: bool = JSON,
) -> None:
    """监管方发起并签名任务 / the regulator declares and signs a job.

    Example: jinyu joint job create --dir reg --job-id j1 --guest bank-a --host hub --model-name sme-risk --out j1.json
    """
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
    _out(service.create_job(directory, out, **spec), json_out)


@job_app.command("accept")
@handle_errors
def job_accept(
    directory: Path = DIR,
    job: Path = typer.Option(..., help="监管方签名的任务文件 / the signed job file"),
    json_out: bool = JSON,
) -> None:
    """参与方核验并接受任务 / a party verifies and accepts a job.

    Example: jinyu joint job accept --dir hub --job j1.json
    """
    from jinyu.jointmodel import service

    _out(service.accept_job(directory, job), json_out)


@job_app.command("run")
@handle_errors
def job_run(
    directory: Path = DIR,
    job_id: str = typer.Option(..., help="任务 id / job id"),
    host_url: str = typer.Option(..., help="host 节点地址 / the host node, e.g. http://127.0.0.1:8765"),
    ca_file: Path | None = typer.Option(
        None, help="https 时信任的 CA 证书 / CA certificate for an https host URL"
    ),
    json_out: bool = JSON,
) -> None:
    """guest 运行（或续跑）任务 / the guest runs or resumes a job.

    Example: jinyu joint job run --dir bank --job-id j1 --host-url http://127.0.0.1:8765 --json
    """
    from jinyu.jointmodel import service

    _out(service.run_job(directory, job_id, host_url, ca_file), json_out)


@job_app.command("show")
@handle_errors
def job_show(
    directory: Path = DIR, job_id: str = typer.Option(..., help="任务 id / job id"), json_out: bool = JSON
) -> None:
    """任务状态、审计链与抓包摘要 / a job's state, audit chain and capture.

    Example: jinyu joint job show --dir bank --job-id j1
    """
    from jinyu.jointmodel import service

    _out(service.show_job(directory, job_id), json_out)


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
