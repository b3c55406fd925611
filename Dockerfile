# hermod-broker image: build with the dev toolchain, run on the production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The Redis store's Lua scripts are read from the source tree at run time.
COPY src/mailbox/scripts ./src/mailbox/scripts
# The developer console page (plain ES modules and CSS) is served from the source tree too.
COPY src/console/web ./src/console/web
COPY package.json ./
COPY bin ./bin
COPY config ./config
# broker.data-dir (.hermod under /app): the generated self-signed certificate is kept there across restarts.
RUN mkdir -p /app/.hermod && chown node:node /app/.hermod
USER node
EXPOSE 20400
# Hermod's layout: /app/config/application.yml (mount yours over it) and /app/certificates/.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/cli/main.js", "healthcheck"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
