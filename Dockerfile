# One image for every service; compose.yaml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY shared ./shared
COPY services ./services
COPY ecp_client ./ecp_client
COPY examples ./examples
RUN pip install --no-cache-dir --no-deps -e . && useradd --system --uid 10001 ecp
USER ecp
EXPOSE 8001
CMD ["python", "-m", "services.gateway"]
