FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY grdf_access ./grdf_access
COPY smartoa ./smartoa
COPY flexready ./flexready
COPY tic ./tic
RUN pip install --no-cache-dir .
COPY . .
USER nobody
CMD ["gunicorn", "hub.wsgi", "-c", "gunicorn.conf.py"]
