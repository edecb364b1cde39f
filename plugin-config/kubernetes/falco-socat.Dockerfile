# Falco plus socat, for program_output to falco-ml's feed socket (the official images do not
# ship socat). Build: docker build -f falco-socat.Dockerfile -t falco-socat:0.44 .
ARG FALCO_IMAGE=docker.io/falcosecurity/falco:0.44.0
FROM ${FALCO_IMAGE}
USER root
RUN apk add --no-cache socat
