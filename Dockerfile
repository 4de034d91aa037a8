FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY connectors ./connectors
COPY policies ./policies
RUN pip install --no-cache-dir . && useradd --system gateway
ENV GATEWAY_POLICY_DIR=/app/policies GATEWAY_DATA_DIR=/var/lib/gateway GATEWAY_LOG_JSON=true
RUN mkdir -p /var/lib/gateway && chown gateway /var/lib/gateway
USER gateway
EXPOSE 8000
CMD ["python", "-m", "gateway", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
