// One configured scalar as written in its source (file line, environment variable, override), before coercion.

/** A configured value before placeholders are resolved and the value is coerced to its setting's type. */
export class ConfigText {
  /**
   * @param text the value as written (`0123` stays `0123`; YAML `~` and an empty value are '')
   * @param origin where it was written, for problems: `config/application.yml:12`, `environment variable SERVER_PORT`
   * @param typedValue YAML's own typing of the scalar, used only inside free-form settings (`broker.redis.options`)
   */
  constructor (readonly text: string, readonly origin: string, readonly typedValue?: unknown) {}
}

/** The shape of a parsed source before binding: maps keep the keys as written. */
export type RawNode = ConfigText | RawNode[] | RawMap
export type RawMap = Map<string, RawNode>
