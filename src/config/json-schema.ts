/**
 * JSON Schemas of config.yaml and station profiles, from the same zod schemas that validate them, for
 * editors (yaml-language-server: `# yaml-language-server: $schema=profile.schema.json`).
 */
import { z } from 'zod';
import { ProfileFileSchema } from './profile-schema.ts';
import { StationConfigFileSchema } from './station-config-schema.ts';

export const SCHEMA_NAMES = ['profile', 'config'] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export function jsonSchemaFor(name: SchemaName): Record<string, unknown> {
  const schema = name === 'profile' ? ProfileFileSchema : StationConfigFileSchema;
  // io: 'input' describes what a person writes (before defaults and transforms).
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
