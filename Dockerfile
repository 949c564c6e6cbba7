# The processor image used by docker-compose.yml (worker, projector and topic init share it).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY events events
COPY processor processor
COPY projections projections
RUN pip install --no-cache-dir .
ENTRYPOINT ["licensing"]
