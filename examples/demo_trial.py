"""Scenario 2 of the integration guide: try the orchestrator in demo mode with `ECPClient`.

Nothing real is consumed: demo tenants are deployed to a virtual cluster.

    ECP_URL=http://127.0.0.1:8001 python examples/demo_trial.py [--tenant test-ai-service]
"""

from __future__ import annotations

import argparse
import os
import sys

from ecp_client import ECPClient, ECPError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("ECP_URL", "http://localhost:8001"))
    parser.add_argument("--tenant", default="test-ai-service")
    parser.add_argument("--cleanup", action="store_true", help="delete the tenant at the end")
    args = parser.parse_args()

    # 데모 환경에서 테스트
    demo_client = ECPClient(base_url=args.url, is_demo=True)

    # 데모 테넌트 생성 (실제 리소스 소모 없음)
    spec = {
        "tenant_id": args.tenant,
        "name": "테스트 AI 서비스",
        "preset": "small",
        "service_requirements": {"chatbot": 10},
    }
    try:
        demo_tenant = demo_client.create_tenant(spec)
    except ECPError as error:
        if error.code != "TENANT_EXISTS":
            raise
        demo_tenant = demo_client.get_tenant(args.tenant)
    print(f"tenant {demo_tenant['tenant_id']}: {demo_tenant['status']}")

    # 데모 데이터로 모니터링 테스트
    pushed = demo_client.send_test_metrics(demo_tenant["tenant_id"])
    print(f"test metrics: {pushed['accepted']} samples accepted")

    # 매니페스트 검증
    manifest = demo_client.get_manifest(demo_tenant["tenant_id"])
    validation_result = demo_client.validate_manifest(manifest)
    print(f"검증 결과: {validation_result}")

    if args.cleanup:
        demo_client.delete_tenant(demo_tenant["tenant_id"])
        print(f"tenant {demo_tenant['tenant_id']} deleted")
    return 0 if validation_result["valid"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ECPError as error:
        sys.exit(f"{error.code} ({error.status}): {error.detail}")
