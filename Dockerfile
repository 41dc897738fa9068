# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .dockerignore keeps .git out of the build context, so Go cannot stamp the
# VCS revision into the binary: pass it, as in
#   docker build --build-arg REVISION=$(git rev-parse HEAD) -t outagebot .
# and `outagebot version` and outagebot_build_info show it.
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.buildRevision=${REVISION}" -o /outagebot . \
	&& mkdir /data

# distroless/static has CA certificates and tzdata, runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
ARG REVISION=""
LABEL org.opencontainers.image.title="outagebot" \
	org.opencontainers.image.description="Telegram bot that tells people when WhatsApp, Instagram, Facebook, Messenger or Threads go down" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.revision="${REVISION}"
COPY --from=build /outagebot /outagebot
# The database lives on a volume owned by the non-root user; the root
# filesystem can be mounted read-only.
COPY --from=build --chown=65532:65532 /data /data
VOLUME /data
# /metrics, /healthz and /backup listen on every interface of the
# container; publish the port to the host's loopback only
# (-p 127.0.0.1:9090:9090). /backup stays off without OUTAGEBOT_ADMIN_TOKEN.
ENV OUTAGEBOT_DB=/data/outagebot.db \
	OUTAGEBOT_LISTEN=:9090
EXPOSE 9090
USER nonroot:nonroot
# distroless has no shell and no curl: the binary asks its own /healthz.
# The start period covers a slow first getMe; while Telegram is out of
# reach /healthz says so, and the check fails.
HEALTHCHECK --interval=30s --timeout=15s --start-period=1m --retries=3 \
	CMD ["/outagebot", "healthcheck"]
ENTRYPOINT ["/outagebot"]
CMD ["run"]
