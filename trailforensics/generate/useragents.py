"""User agents and source addresses that look like the real thing."""

from __future__ import annotations

from trailforensics.generate.rng import Rng

BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 "
    "Safari/537.36 Edg/133.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 "
    "Safari/605.1.15",
)

OS_CLI = (
    ("os/linux#6.5.0-26-generic", "md/distrib#ubuntu.22"),
    ("os/macos#23.6.0", ""),
    ("os/macos#24.3.0", ""),
    ("os/windows#10", ""),
    ("os/linux#6.8.0-51-generic", "md/distrib#ubuntu.24"),
)


def cli_v2(rng: Rng, exec_env: str | None = None) -> str:
    """aws-cli v2 (the `md/command#...` suffix is added per call)."""
    minor = rng.pick(("2.15.30", "2.15.58", "2.17.20", "2.22.4", "2.24.10"))
    crt = {
        "2.15.30": "0.19.19",
        "2.15.58": "0.19.19",
        "2.17.20": "0.20.11",
        "2.22.4": "0.22.0",
        "2.24.10": "0.23.8",
    }[minor]
    osv, distrib = rng.pick(OS_CLI)
    arch = "arm64" if "macos" in osv and rng.chance(0.6) else "x86_64"
    parts = [
        f"aws-cli/{minor}",
        f"md/awscrt#{crt}",
        "ua/2.0",
        osv,
        f"md/arch#{arch}",
        "lang/python#3.11.8",
        "md/pyimpl#CPython",
    ]
    if exec_env:
        parts.append(f"exec-env/{exec_env}")
    parts += ["cfg/retry-mode#standard", "md/installer#exe"]
    if distrib:
        parts.append(distrib)
    parts.append("md/prompt#off")
    return " ".join(parts)


def boto3(rng: Rng, exec_env: str | None = None, version: str | None = None) -> str:
    v = version or rng.pick(("1.34.162", "1.35.36", "1.36.2", "1.37.11"))
    env = f" exec-env/{exec_env}" if exec_env else ""
    kernel = rng.pick(("5.10.233-224.894.amzn2.x86_64", "6.1.127-135.201.amzn2023.x86_64"))
    return (
        f"Boto3/{v} md/Botocore#{v} ua/2.0 os/linux#{kernel} md/arch#x86_64 lang/python#3.12.8 "
        f"md/pyimpl#CPython{env} cfg/retry-mode#legacy Botocore/{v}"
    )


def go_sdk(rng: Rng, api: str = "s3#1.58.3") -> str:
    return f"aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64 api/{api} m/E"


def java_sdk(rng: Rng) -> str:
    return (
        "aws-sdk-java/2.29.43 Linux/5.10.233-224.894.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS "
        "Java/21.0.5 vendor/Amazon.com_Inc. md/io#sync md/http#Apache ua/2.1 cfg/retry-mode#legacy"
    )


def node_sdk(rng: Rng, runtime: str = "AWS_Lambda_nodejs20.x") -> str:
    return (
        "aws-sdk-js/3.723.0 ua/2.1 os/linux#5.10.233-244.901.amzn2.x86_64 lang/js md/nodejs#20.18.1 "
        f"api/dynamodb#3.723.0 exec-env/{runtime} m/E,e"
    )


def terraform(rng: Rng) -> str:
    return (
        "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) terraform-provider-aws/5.82.2 "
        "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.7 ua/2.1 os/linux "
        "lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.198.1 m/E,e,g"
    )


SSM_AGENT = "aws-sdk-go/1.55.5 (go1.22.9; linux; amd64) amazon-ssm-agent/3.3.1142.0"

# GitHub-hosted runners egress from Azure ranges
RUNNER_PREFIXES = ("20.57", "20.102", "40.74", "52.238", "172.190", "4.175")
# AWS public ranges used by Lambda / NAT gateways
AWS_EGRESS_PREFIXES = ("3.250", "34.240", "52.49", "54.76", "18.200", "63.33")
# Home and mobile broadband, one /24 each (three octets: home_ip adds the fourth).
HOME_PREFIXES = ("81.2.69", "86.14.99", "92.40.14", "176.24.233", "82.132.186", "109.150.41", "31.10.152", "89.64.27")


def runner_ip(rng: Rng) -> str:
    return f"{rng.pick(RUNNER_PREFIXES)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}"


def aws_ip(rng: Rng) -> str:
    return f"{rng.pick(AWS_EGRESS_PREFIXES)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}"


def home_ip(rng: Rng) -> str:
    return f"{rng.pick(HOME_PREFIXES)}.{rng.randrange(1, 254)}"
