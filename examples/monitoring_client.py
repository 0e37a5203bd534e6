"""The integration guide's `ECPMonitoringClient`, verbatim, sending the guide's metrics.

The only addition: prod mode needs an API key, so when ECP_API_KEY is set the script adds the
`Authorization` header to the client's headers.

    ECP_URL=http://127.0.0.1:8001 ECP_API_KEY=... python examples/monitoring_client.py my-ai-service
    ECP_URL=http://127.0.0.1:8001 python examples/monitoring_client.py my-demo-tenant --demo
"""

# ruff: noqa: W291, W293, S113
# (the guide's class is kept exactly as printed, trailing spaces included)

import json
import os
import sys
from datetime import datetime

import requests


# fmt: off
class ECPMonitoringClient:
    def __init__(self, base_url, is_demo=False):
        self.base_url = base_url
        self.headers = {
            'Content-Type': 'application/json',
            'X-Demo-Mode': str(is_demo).lower()
        }
    
    def send_metrics(self, tenant_id, metrics):
        """
        메트릭 데이터 전송
        
        Args:
            tenant_id: 테넌트 ID
            metrics: 메트릭 데이터 딕셔너리
        """
        endpoint = f"{self.base_url}/tenants/{tenant_id}/monitoring"
        
        payload = {
            "timestamp": datetime.utcnow().isoformat(),
            "metrics": metrics
        }
        
        response = requests.post(endpoint, 
                               headers=self.headers, 
                               json=payload)
        return response.json()
# fmt: on


def main():
    url = os.environ.get("ECP_URL", "http://localhost:8001").rstrip("/")
    base_url = url if url.endswith("/api/v1") else url + "/api/v1"
    tenant_id = sys.argv[1] if len(sys.argv) > 1 else "my-ai-service"
    is_demo = "--demo" in sys.argv[2:]

    # 사용 예시
    client = ECPMonitoringClient(base_url, is_demo=is_demo)
    if os.environ.get("ECP_API_KEY"):
        client.headers["Authorization"] = f"Bearer {os.environ['ECP_API_KEY']}"

    metrics = {
        "cpu_usage": 65.5,
        "memory_usage": 78.2,
        "gpu_usage": 85.0,
        "request_count": 1250,
        "response_time": 145.8,
    }

    result = client.send_metrics(tenant_id, metrics)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("status") == "accepted" else 1


if __name__ == "__main__":
    sys.exit(main())
