-- Seed rows for Clinical (PostgreSQL database "nilecare"; tables from the init.sql embedded in
-- infrastructure/kubernetes/postgres.yaml of the upstream repository).
-- Safe to load on every boot: each INSERT ends with ON CONFLICT DO NOTHING.
-- Tenant of every row (and of the tokens services.sh mints): 550e8400-e29b-41d4-a716-446655440001,
-- the organisation that Facility's own sample data uses. One patient belongs to another tenant,
-- so that organisation scoping can be observed (it must answer 404).
INSERT INTO patients (id, first_name, last_name, date_of_birth, gender, phone_number, email,
  address_street, address_city, address_state, address_zip_code, address_country,
  emergency_contact_name, emergency_contact_relationship, emergency_contact_phone,
  medical_history, allergies, medications, organization_id, created_by, created_at, updated_at)
VALUES
 ('11111111-1111-4111-8111-000000000001','Ahmed','Hassan','1980-03-14','male','+249912000001','ahmed.hassan@example.sd',
  '12 Nile St','Khartoum','Khartoum','11111','Sudan','Fatima Hassan','spouse','+249912100001',
  ARRAY['hypertension'],ARRAY['penicillin'],ARRAY['amlodipine 5mg'],
  '550e8400-e29b-41d4-a716-446655440001','550e8400-e29b-41d4-a716-446655440002', now() - interval '5 days', now() - interval '5 days'),
 ('11111111-1111-4111-8111-000000000002','Fatima','Ali','1992-07-01','female','+249912000002','fatima.ali@example.sd',
  '3 Blue Nile Rd','Omdurman','Khartoum','11112','Sudan','Omar Ali','brother','+249912100002',
  ARRAY[]::text[],ARRAY[]::text[],ARRAY[]::text[],
  '550e8400-e29b-41d4-a716-446655440001','550e8400-e29b-41d4-a716-446655440002', now() - interval '4 days', now() - interval '4 days'),
 ('11111111-1111-4111-8111-000000000003','Mohamed','Osman','1975-11-20','male','+249912000003',NULL,
  NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,
  ARRAY['type 2 diabetes'],ARRAY[]::text[],ARRAY['metformin 500mg'],
  '550e8400-e29b-41d4-a716-446655440001','550e8400-e29b-41d4-a716-446655440002', now() - interval '3 days', now() - interval '3 days'),
 ('11111111-1111-4111-8111-000000000004','Amna','Ibrahim','2001-01-09','female','+249912000004','amna.ibrahim@example.sd',
  '7 Port Rd','Port Sudan','Red Sea','33311','Sudan',NULL,NULL,NULL,
  NULL,NULL,NULL,
  '550e8400-e29b-41d4-a716-446655440001','550e8400-e29b-41d4-a716-446655440002', now() - interval '2 days', now() - interval '2 days'),
 ('11111111-1111-4111-8111-000000000005','Khalid','Yousif','1968-05-30','male','+249912000005','khalid.yousif@example.sd',
  NULL,'Wad Madani','Gezira',NULL,'Sudan',NULL,NULL,NULL,
  ARRAY['asthma'],ARRAY['aspirin','sulfa'],ARRAY['salbutamol inhaler'],
  '550e8400-e29b-41d4-a716-446655440001','550e8400-e29b-41d4-a716-446655440002', now() - interval '1 day', now() - interval '1 day'),
 -- tenant 9999...: invisible to the seeded tokens
 ('22222222-2222-4222-8222-000000000001','Other','Tenant','1990-01-01','other','+249912999999',NULL,
  NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,
  '99999999-9999-4999-8999-999999999999','550e8400-e29b-41d4-a716-446655440002', now(), now())
ON CONFLICT DO NOTHING;

INSERT INTO encounters (id, patient_id, provider_id, encounter_type, start_date, end_date, chief_complaint,
  diagnosis, treatment_plan, vital_signs, status, organization_id, created_by)
VALUES
 ('33333333-3333-4333-8333-000000000001','11111111-1111-4111-8111-000000000001','44444444-4444-4444-8444-000000000001',
  'outpatient', now() - interval '30 days', now() - interval '30 days' + interval '40 minutes', 'Headache and dizziness',
  ARRAY['I10 Essential hypertension'], 'Start amlodipine 5mg daily',
  '{"bloodPressure":{"systolic":160,"diastolic":100},"heartRate":82,"temperature":36.9}', 'completed',
  '550e8400-e29b-41d4-a716-446655440001','44444444-4444-4444-8444-000000000001'),
 ('33333333-3333-4333-8333-000000000002','11111111-1111-4111-8111-000000000001','44444444-4444-4444-8444-000000000001',
  'outpatient', now() - interval '2 days', NULL, 'Blood pressure follow-up',
  NULL, NULL, '{"bloodPressure":{"systolic":138,"diastolic":88},"heartRate":76}', 'in-progress',
  '550e8400-e29b-41d4-a716-446655440001','44444444-4444-4444-8444-000000000001'),
 ('33333333-3333-4333-8333-000000000003','11111111-1111-4111-8111-000000000003','44444444-4444-4444-8444-000000000002',
  'emergency', now() - interval '10 days', now() - interval '9 days', 'Hyperglycaemia',
  ARRAY['E11.65 Type 2 diabetes with hyperglycemia'], 'Insulin sliding scale; discharge on metformin',
  NULL, 'completed',
  '550e8400-e29b-41d4-a716-446655440001','44444444-4444-4444-8444-000000000002')
ON CONFLICT DO NOTHING;
